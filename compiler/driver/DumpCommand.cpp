// `rnnc dump`: prints what a safetensors file holds, one line per metadata entry and per tensor
// (name, dtype, shape, and with --values every element), so tests and users can look inside
// parameter, data and output files. Reals print with enough digits to read back exactly.
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "runtime/Safetensors.h"

#include <cstdio>
#include <iostream>

namespace rnnc::driver {
namespace {

/// The elements of `tensor`, row-major, separated by spaces.
std::string formatValues(const Tensor &tensor) {
  std::string text;
  char buffer[40];
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    switch (tensor.dtype()) {
    case DType::F32:
      std::snprintf(buffer, sizeof buffer, "%.9g", double(tensor.values<float>()[i]));
      break;
    case DType::F64:
      std::snprintf(buffer, sizeof buffer, "%.17g", tensor.values<double>()[i]);
      break;
    case DType::I32:
      std::snprintf(buffer, sizeof buffer, "%d", tensor.values<int32_t>()[i]);
      break;
    }
    text += (i == 0 ? "" : " ") + std::string(buffer);
  }
  return text;
}

Status dumpCommand(const std::vector<std::string> &args) {
  CommandLine commandLine;
  commandLine.flag("--values", "also print every element");
  auto path = parseCommandLine(commandLine, args, "rnnc dump FILE.safetensors [--values]",
                               "safetensors file");
  if (!path)
    return path.takeError();
  if (!*path)
    return Status::ok();
  SafetensorsMetadata metadata;
  auto tensors = readSafetensors(**path, &metadata);
  if (!tensors)
    return tensors.takeError();
  for (const auto &[key, value] : metadata)
    std::cout << "metadata " << key << " = " << value << "\n";
  for (const auto &[name, tensor] : *tensors) {
    std::cout << name << ": " << dtypeName(tensor.dtype()) << " " << formatShape(tensor.shape());
    if (commandLine.has("--values"))
      std::cout << " = " << formatValues(tensor);
    std::cout << "\n";
  }
  return Status::ok();
}

int runDump(const std::vector<std::string> &args) {
  return runSubcommand([&] { return dumpCommand(args); });
}

} // namespace

RNNC_REGISTER_COMMAND("dump", "print the tensors of a safetensors file", runDump);

} // namespace rnnc::driver
