#include "compiler/frontend/Frontend.h"

#include "compiler/frontend/Diagnostics.h"
#include "compiler/frontend/Parser.h"
#include "compiler/frontend/Sema.h"

#include <fstream>
#include <sstream>

namespace rnnc::frontend {

namespace {
// Source locations hold 32-bit offsets; a model file is a few kilobytes.
constexpr size_t kMaxSourceBytes = size_t{1} << 30;
} // namespace

Expected<std::unique_ptr<ast::Model>>
parseAndCheckModel(std::string_view source, const std::string &filename,
                   const std::map<std::string, long long> &dimOverrides) {
  if (source.size() > kMaxSourceBytes)
    return Error::user(filename + ": error: file is too large (" + std::to_string(source.size()) +
                       " bytes; the limit is " + std::to_string(kMaxSourceBytes) + ")");
  DiagnosticEngine diags(source, filename);
  std::unique_ptr<ast::Model> model = parseModel(source, diags);
  // Sema on a partial parse would mostly report follow-on errors (names whose statement did
  // not parse), so it runs only on a clean parse.
  if (model && !diags.hasErrors())
    checkModel(*model, dimOverrides, diags);
  if (diags.hasErrors())
    return diags.takeError();
  if (!model)
    return Error::internal("the parser returned no model and no error");
  return model;
}

Expected<std::string> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error::user("cannot open '" + path + "'");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad())
    return Error::user("cannot read '" + path + "'");
  return contents.str();
}

Expected<std::unique_ptr<ast::Model>>
parseAndCheckModelFile(const std::string &path,
                       const std::map<std::string, long long> &dimOverrides) {
  auto source = readFile(path);
  if (!source)
    return source.takeError();
  return parseAndCheckModel(*source, path, dimOverrides);
}

} // namespace rnnc::frontend
