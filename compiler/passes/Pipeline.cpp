#include "compiler/passes/Pipeline.h"

#include "compiler/passes/CSE.h"
#include "compiler/passes/DCE.h"
#include "compiler/passes/HoistTimeParallel.h"
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

/// Adapts a pass that cannot fail (it returns a count of changes) to PassRunner::run.
template <typename Pass> auto infallible(Pass pass) {
  return [pass](ir::Module &module) {
    pass(module);
    return Status::ok();
  };
}

} // namespace

Expected<PipelineReport> runPipeline(ir::Module &module, const PipelineOptions &options) {
  PipelineReport report;
  PassRunner passes(module, options);
  auto autodiff = [&](ir::Module &module) -> Status {
    auto derived = differentiate(module, options.autodiff);
    if (!derived)
      return derived.takeError();
    report.autodiff = derived.take();
    return Status::ok();
  };
  Status status = Status::ok();
  // 1. Autodiff: `backward` = a copy of `forward` + the reverse sweep.
  // 2. Simplify before CSE: its rewrites (x * 1 -> x, softmax + nll -> p - onehot(y)) expose
  //    equal expressions.
  // 3. Hoisting after simplification, so it moves the final per-step expressions (the
  //    cross-entropy gradient p - onehot(y), not softmax's and nll's rules), and before CSE,
  //    which merges what several scans hoist alike (onehot(x) of the forward and gradient scans).
  // 4. CSE.
  // 5. DCE last: removes what the others left unused, including scan outputs nobody reads.
  if (options.backward)
    (status = passes.run("autodiff", autodiff)) &&
        (status = passes.run("simplify", infallible(simplify)));
  if (status && options.hoist)
    status = passes.run("hoist", infallible(hoistTimeParallel));
  if (status && (options.backward || options.hoist))
    (status = passes.run("cse", infallible(eliminateCommonSubexpressions))) &&
        (status = passes.run("dce", infallible(eliminateDeadCode)));
  if (!status)
    return status.takeError();
  return report;
}

} // namespace rnnc::passes
