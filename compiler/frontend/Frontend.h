// The frontend's public entry point: model text in, checked AST (AST.h) out, or every error of
// the run as one rnnc::Error (ErrorKind::User) whose message holds clang-style diagnostics
// ("file:line:col: error: message", the source line, a caret). Never crashes, hangs or
// overflows the stack, whatever the input.
#pragma once

#include "compiler/frontend/AST.h"
#include "runtime/Error.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace rnnc::frontend {

/// Parses and checks a model. `filename` is only used in diagnostics. `dimOverrides` are the
/// -D NAME=VALUE values; overriding a dim the model does not declare is an error.
Expected<std::unique_ptr<ast::Model>>
parseAndCheckModel(std::string_view source, const std::string &filename,
                   const std::map<std::string, long long> &dimOverrides);

/// Reads a whole file (a model file, or anything else the tool reads as text); a missing or
/// unreadable file is a user error naming it.
Expected<std::string> readFile(const std::string &path);

/// Reads `path` and parses and checks it; an unreadable file is a user error naming it.
Expected<std::unique_ptr<ast::Model>>
parseAndCheckModelFile(const std::string &path,
                       const std::map<std::string, long long> &dimOverrides);

} // namespace rnnc::frontend
