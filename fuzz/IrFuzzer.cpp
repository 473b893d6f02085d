// Fuzz target: the textual graph IR (`rnnc ir FILE.rnnir`'s reader) and the verifier. Any input
// must parse or give a user error; a module that parses is verified, and one that verifies must
// print and parse back to the same text (the IR's round-trip promise, docs/ir.md). A crash, a
// sanitizer report, a hang, an internal error or a broken round trip is a finding.
#include "fuzz/FuzzTarget.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto module = rnnc::ir::parseModule(text, "fuzz.rnnir");
  if (!module) {
    rnnc::fuzz::expectUserError(module.error(), "parseModule");
    return 0;
  }
  if (rnnc::Status status = rnnc::ir::verifyModule(**module); !status) {
    rnnc::fuzz::expectUserError(status.error(), "verifyModule");
    return 0;
  }
  std::string printed = rnnc::ir::printModule(**module);
  auto reparsed = rnnc::ir::parseModule(printed, "printed.rnnir");
  if (!reparsed)
    rnnc::fuzz::fail("the printed form of a verified module does not parse: " +
                     reparsed.error().message + "\n" + printed);
  if (rnnc::ir::printModule(**reparsed) != printed)
    rnnc::fuzz::fail("print -> parse -> print changed the text:\n" + printed);
  return 0;
}
