// The Eigen baseline of a benchmark case (compiler/driver/BenchmarkCase.h): the hand-written BPTT
// of EigenRnn.h run on the case's own parameters and random batch, in the case's mode, so that its
// results can be compared with rnnc's tensor for tensor and its time with rnnc's.
#pragma once

#include "bench/Baseline.h"
#include "bench/EigenRnn.h"
#include "bench/ShapeSuite.h"
#include "compiler/driver/BenchmarkCase.h"
#include "runtime/Error.h"

#include <memory>

namespace rnnc::bench {

class EigenBaseline final : public Baseline {
public:
  /// A user error when the case's tensors are not those of `kind`'s model (a missing tensor, a
  /// wrong dtype or shape), or the case is not float32.
  static Expected<std::unique_ptr<EigenBaseline>> create(EigenBaselineKind kind,
                                                         const driver::BenchmarkCase &source);
  const char *name() const override { return "Eigen"; }
  void run() override;
  NamedResults results() override;

private:
  bool train_ = false;
  std::unique_ptr<EigenTanhRnn> tanhRnn_;
  EigenTanhRnn::Inputs tanhRnnInputs_{};
  std::unique_ptr<EigenElman> elman_;
  EigenElman::Inputs elmanInputs_{};
};

} // namespace rnnc::bench
