// loadModule: the one way every subcommand (and the C++ API) turns a path or model text into
// verified IR.
#include "compiler/driver/DriverCommon.h"
#include "compiler/frontend/Frontend.h"
#include "compiler/frontend/Lower.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"

namespace rnnc::driver {

Expected<std::unique_ptr<ir::Module>> loadModule(const std::string &path,
                                                 const std::map<std::string, long long> &dims) {
  // `-` is standard input, read as textual IR (what `rnnc ir` prints, so it can be piped).
  bool isTextualIR =
      path == "-" || (path.size() >= 6 && path.substr(path.size() - 6) == ".rnnir");
  std::unique_ptr<ir::Module> module;
  if (isTextualIR) {
    if (!dims.empty())
      return Error::user("-D applies to model files, not to textual IR ('" + path + "')");
    auto parsed = ir::parseModuleFile(path);
    if (!parsed)
      return parsed.takeError();
    module = parsed.take();
  } else {
    auto source = readFile(path);
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

} // namespace rnnc::driver
