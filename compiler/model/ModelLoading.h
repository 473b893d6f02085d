// Loading a model: the one way every subcommand and the C++ API (rnnc/rnnc.h) turn a path or
// model text into verified IR, with the `-D NAME=VALUE` dim overrides checked the same way.
// Invariant: a module returned here has passed the IR verifier.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rnnc::model {

/// `-D NAME=VALUE` overrides, validated: NAME an identifier, VALUE a positive integer.
Expected<std::map<std::string, long long>>
parseDimOverrides(const std::vector<std::string> &definitions);

/// Loads a model as IR: a `.rnnir` file (or `-`, standard input) is parsed as textual IR;
/// anything else is a model file that goes through the frontend (with `dims` as -D overrides)
/// and lowering. The module is verified before it is returned.
Expected<std::unique_ptr<ir::Module>> loadModule(const std::string &path,
                                                 const std::map<std::string, long long> &dims);

/// Loads model text (the model-file language) through the frontend and lowering, verified;
/// `filename` names it in diagnostics.
Expected<std::unique_ptr<ir::Module>>
loadModuleFromSource(std::string_view source, const std::string &filename,
                     const std::map<std::string, long long> &dims);

} // namespace rnnc::model
