// The start-up check of the suite: on a small case of each Eigen baseline's model (every parameter
// non-zero), forward and train, the baseline must compute the same tensors as rnnc's JIT (the same
// output names, every value equal within float32 tolerance, no gradient identically zero), so that
// it is provably the same computation and the suite's ratios compare like with like.
#pragma once

#include "runtime/Error.h"

#include <string>

namespace rnnc::bench {

/// One line per case checked (the largest relative difference), or a user error naming the
/// model, mode and tensor that differ.
Expected<std::string> checkBaselinesMatchRnnc();

} // namespace rnnc::bench
