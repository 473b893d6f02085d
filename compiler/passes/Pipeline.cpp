// The pass pipeline as a table of contents: kPipeline lists every IR-to-IR pass in the order it
// runs, each with the condition it runs under and the reason it stands where it does. runPipeline
// walks the table; runPassList runs passes chosen by name (`rnnc ir --passes=…`), so that each
// pass can be tested alone on textual IR. Every pass is followed by the verifier (when asked) and
// the print hook.
#include "compiler/passes/Pipeline.h"

#include "compiler/passes/CSE.h"
#include "compiler/passes/DCE.h"
#include "compiler/passes/HoistTimeParallel.h"
#include "compiler/passes/Simplify.h"
#include "ir/Verifier.h"

#include <iterator>
#include <string>
#include <vector>

namespace rnnc::passes {

namespace {

/// What a pass reads and writes besides the module.
struct PassContext {
  const PipelineOptions &options;
  PipelineReport &report;
};

struct PassEntry {
  const char *name;
  /// Whether runPipeline runs the pass under these options.
  bool (*enabled)(const PipelineOptions &options);
  Status (*run)(ir::Module &module, PassContext &context);
};

bool forBackward(const PipelineOptions &options) { return options.backward; }
bool forHoisting(const PipelineOptions &options) { return options.hoist; }
bool forBackwardOrHoisting(const PipelineOptions &options) {
  return options.backward || options.hoist;
}

Status runAutodiff(ir::Module &module, PassContext &context) {
  auto derived = differentiate(module, context.options.autodiff);
  if (!derived)
    return derived.takeError();
  context.report.autodiff = derived.take();
  return Status::ok();
}

Status runSimplify(ir::Module &module, PassContext &) {
  simplify(module);
  return Status::ok();
}

Status runHoisting(ir::Module &module, PassContext &) {
  auto changes = hoistTimeParallel(module);
  return changes ? Status::ok() : Status(changes.takeError());
}

Status runCSE(ir::Module &module, PassContext &) {
  eliminateCommonSubexpressions(module);
  return Status::ok();
}

Status runDCE(ir::Module &module, PassContext &) {
  eliminateDeadCode(module);
  return Status::ok();
}

// The pipeline, in order.
const PassEntry kPipeline[] = {
    // `backward` = a copy of `forward` + the reverse sweep (Autodiff.h).
    {"autodiff", forBackward, runAutodiff},
    // Before CSE: its rewrites (x * 1 -> x, softmax + nll -> p - onehot(y)) expose equal
    // expressions.
    {"simplify", forBackward, runSimplify},
    // After simplification, so it moves the final per-step expressions (the cross-entropy
    // gradient p - onehot(y), not softmax's and nll's rules); before CSE, which merges what
    // several scans hoist alike (onehot(x) of the forward and gradient scans).
    {"hoist", forHoisting, runHoisting},
    // After every pass that creates expressions.
    {"cse", forBackwardOrHoisting, runCSE},
    // Last: removes what the others left unused, including scan outputs nobody reads.
    {"dce", forBackwardOrHoisting, runDCE},
};

/// Runs one pass, then the verifier and the print hook.
Status runPass(const PassEntry &pass, ir::Module &module, PassContext &context) {
  if (Status status = pass.run(module, context); !status)
    return status;
  if (context.options.verifyEachPass)
    if (Status status = ir::verifyModule(module); !status)
      return Error::internal("the IR does not verify after pass '" + std::string(pass.name) +
                             "': " + status.error().message);
  if (context.options.afterPass)
    context.options.afterPass(pass.name, module);
  return Status::ok();
}

/// "autodiff, simplify, hoist, cse and dce".
std::string passNames() {
  std::string names;
  size_t count = std::size(kPipeline);
  for (size_t i = 0; i < count; ++i)
    names += std::string(i == 0 ? "" : i + 1 == count ? " and " : ", ") + kPipeline[i].name;
  return names;
}

} // namespace

Expected<PipelineReport> runPipeline(ir::Module &module, const PipelineOptions &options) {
  PipelineReport report;
  PassContext context{options, report};
  for (const PassEntry &pass : kPipeline)
    if (pass.enabled(options))
      if (Status status = runPass(pass, module, context); !status)
        return status.takeError();
  return report;
}

Expected<PipelineReport> runPassList(ir::Module &module, const std::string &list,
                                     const PipelineOptions &options) {
  std::vector<const PassEntry *> chosen;
  size_t begin = 0;
  while (true) {
    size_t end = list.find(',', begin);
    std::string name = list.substr(begin, end == std::string::npos ? end : end - begin);
    const PassEntry *found = nullptr;
    for (const PassEntry &pass : kPipeline)
      if (name == pass.name)
        found = &pass;
    if (!found)
      return Error::user("unknown pass '" + name + "' in '" + list + "'; the passes are " +
                         passNames());
    chosen.push_back(found);
    if (end == std::string::npos)
      break;
    begin = end + 1;
  }
  PipelineReport report;
  PassContext context{options, report};
  for (const PassEntry *pass : chosen)
    if (Status status = runPass(*pass, module, context); !status)
      return status.takeError();
  return report;
}

} // namespace rnnc::passes
