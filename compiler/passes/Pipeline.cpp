#include "compiler/passes/Pipeline.h"

#include "compiler/passes/CSE.h"
#include "compiler/passes/DCE.h"
#include "compiler/passes/Simplify.h"
#include "ir/Verifier.h"

namespace rnnc::passes {

namespace {

class PassRunner {
public:
  PassRunner(ir::Module &module, const PipelineOptions &options)
      : module_(module), options_(options) {}

  /// Runs one pass, then the verifier and the print hook.
  template <typename Pass> Status run(const std::string &name, Pass &&pass) {
    if (Status status = pass(module_); !status)
      return status;
    if (options_.verifyEachPass)
      if (Status status = ir::verifyModule(module_); !status)
        return Error::internal("the IR does not verify after pass '" + name +
                               "': " + status.error().message);
    if (options_.afterPass)
      options_.afterPass(name, module_);
    return Status::ok();
  }

private:
  ir::Module &module_;
  const PipelineOptions &options_;
};

} // namespace

Expected<PipelineReport> runPipeline(ir::Module &module, const PipelineOptions &options) {
  PipelineReport report;
  PassRunner passes(module, options);
  auto simple = [](auto pass) {
    return [pass](ir::Module &module) {
      pass(module);
      return Status::ok();
    };
  };
  if (options.backward) {
    // Autodiff first: it clones `forward`, so the clean-up below sees both sweeps at once.
    Status status = passes.run("autodiff", [&](ir::Module &module) -> Status {
      auto derived = differentiate(module, options.autodiff);
      if (!derived)
        return derived.takeError();
      report.autodiff = derived.take();
      return Status::ok();
    });
    if (!status)
      return status.takeError();
    // Simplify before CSE: its rewrites (x·1 → x, softmax + nll) expose equal expressions; DCE
    // last removes what both left unused, including scan outputs nobody reads.
    for (auto [name, pass] : {std::pair<const char *, std::function<Status(ir::Module &)>>{
                                  "simplify", simple(simplify)},
                              {"cse", simple(eliminateCommonSubexpressions)},
                              {"dce", simple(eliminateDeadCode)}})
      if (Status status = passes.run(name, pass); !status)
        return status.takeError();
  }
  return report;
}

} // namespace rnnc::passes
