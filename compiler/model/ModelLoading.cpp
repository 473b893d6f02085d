#include "compiler/model/ModelLoading.h"

#include "compiler/frontend/Frontend.h"
#include "compiler/frontend/Lower.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace rnnc::model {

Expected<std::map<std::string, long long>>
parseDimOverrides(const std::vector<std::string> &definitions) {
  std::map<std::string, long long> dims;
  for (const auto &definition : definitions) {
    auto eq = definition.find('=');
    std::string name = definition.substr(0, eq);
    bool validName = !name.empty() && (std::isalpha((unsigned char)name[0]) || name[0] == '_');
    for (char c : name)
      validName = validName && (std::isalnum((unsigned char)c) || c == '_');
    if (eq == std::string::npos || !validName)
      return Error::user("-D expects NAME=VALUE, got '" + definition + "'");
    std::string text = definition.substr(eq + 1);
    errno = 0;
    char *end = nullptr;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || value <= 0 || value > (1LL << 31) - 1)
      return Error::user("-D " + name + ": dim value must be a positive 32-bit integer, got '" +
                         text + "'");
    dims[name] = value;
  }
  return dims;
}

Expected<std::unique_ptr<ir::Module>> loadModule(const std::string &path,
                                                 const std::map<std::string, long long> &dims) {
  // `-` is standard input, read as textual IR (what `rnnc ir` prints, so it can be piped).
  bool isTextualIR = path == "-" || (path.size() >= 6 && path.substr(path.size() - 6) == ".rnnir");
  std::unique_ptr<ir::Module> module;
  if (isTextualIR) {
    if (!dims.empty())
      return Error::user("-D applies to model files, not to textual IR ('" + path + "')");
    auto parsed = ir::parseModuleFile(path);
    if (!parsed)
      return parsed.takeError();
    module = parsed.take();
  } else {
    auto source = frontend::readFile(path);
    if (!source)
      return source.takeError();
    return loadModuleFromSource(*source, path, dims);
  }
  if (Status verified = ir::verifyModule(*module); !verified)
    return verified.takeError();
  return module;
}

Expected<std::unique_ptr<ir::Module>>
loadModuleFromSource(std::string_view source, const std::string &filename,
                     const std::map<std::string, long long> &dims) {
  auto model = frontend::parseAndCheckModel(source, filename, dims);
  if (!model)
    return model.takeError();
  auto lowered = frontend::lowerToIR(**model, filename);
  if (!lowered)
    return lowered.takeError();
  std::unique_ptr<ir::Module> module = lowered.take();
  if (Status verified = ir::verifyModule(*module); !verified)
    return verified.takeError();
  return module;
}

} // namespace rnnc::model
