// The start-up check of the suite: on a small case of each baseline's model (every parameter
// non-zero), forward and train, every baseline (Eigen's; oneDNN's where it is built in) must
// compute the same tensors as rnnc's JIT (the same output names, every value equal within float32
// tolerance, no gradient identically zero), so that it is provably the same computation and the
// suite's ratios compare like with like.
#pragma once

#include "compiler/backend/Backend.h"
#include "runtime/Error.h"

#include <string>

namespace rnnc::bench {

/// One line per baseline and case checked, "baseline check: onednn lstm train: {…} equal, largest
/// relative difference …", or a user error naming the baseline, model, mode and tensor that
/// differ. `rnnc` is what the JIT compiles for (the CPU the suite times).
Expected<std::string> checkBaselinesMatchRnnc(const backend::BackendOptions &rnnc = {});

} // namespace rnnc::bench
