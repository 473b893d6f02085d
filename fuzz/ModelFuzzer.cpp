// Fuzz target: the model language, through `rnnc check`'s code path (parse and check), and for a
// model that checks, on through lowering to the graph IR and the IR verifier. Any input must give
// a model or a user error: a crash, a sanitizer report, a hang, an internal error, or a lowered
// module the verifier rejects is a finding.
#include "compiler/frontend/Frontend.h"
#include "compiler/frontend/Lower.h"
#include "fuzz/FuzzTarget.h"
#include "ir/Verifier.h"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto model = rnnc::frontend::parseAndCheckModel(text, "fuzz.rnn", {});
  if (!model) {
    rnnc::fuzz::expectUserError(model.error(), "parseAndCheckModel");
    return 0;
  }
  auto module = rnnc::frontend::lowerToIR(**model, "fuzz.rnn");
  if (!module) {
    rnnc::fuzz::expectUserError(module.error(), "lowerToIR");
    return 0;
  }
  rnnc::fuzz::expectOk(rnnc::ir::verifyModule(**module), "verifyModule of a lowered model");
  return 0;
}
