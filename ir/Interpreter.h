// The reference interpreter: runs a graph of the IR on a batch of tensors with Eigen, one example
// at a time, exactly as docs/ir.md states the semantics. It is the oracle every pass and backend
// is tested against, so it is written for clarity, not speed.
//
// Tensor layout (docs/language.md, the same as compiler/model/ModelData.h):
//   params           by their names, unbatched, F32 or F64 (converted to the run's precision)
//   inputs, targets  by their names; sequences time-major [T, B, ...], static values [B, ...];
//                    tokens I32, reals F32 or F64
//   outputs          by their names; reals in the run's precision (F64 or F32), tokens I32.
//                    `loss`, and `grad.<p>` for a param p of the graph, when static and real, are
//                    SUMMED over the batch: shape of the value ([] for the loss, p's shape).
//                    Every other output is per example: sequences [T, B, ...] with zeros past
//                    each example's length, static values [B, ...]. So the gradient of a real
//                    input, `grad.x`, is per example, and an output's shape follows from its name
//                    and type alone, never from what it happens to depend on.
//
// Lengths. The length L of an axis for example b is lengths[axis][b] when given (in [1, T]),
// else T. T is the first dimension of the inputs and targets over the axis (they must agree);
// when no tensor is over the axis (generation), T = axisSteps[axis], or the largest given length.
//
// Generation. A `feed` op gives its first operand while the step is within the example's prime
// (step <= primeLengths[axis][b]) and its second after. An input whose steps reach a feed's first
// operand (directly, or as a scan's step sequence) is a *prime*: its tensor [Tp, B, ...] may be
// shorter than the axis, or absent (an empty prime); primeLengths[axis][b] defaults to Tp (0 when
// absent) and must be in [0, min(Tp, L)]; past it the prime reads as zeros (token 0), which a
// feed never selects. `sample` draws from example b's own generator,
// Rng(parameterSeed(seed, "example.<b>")) of runtime/Init.h, one uniform01() per sample op
// evaluation in execution order (steps in scan order, ops in block order); a draw picks the first
// index whose cumulative probability exceeds u * sum(p). So an example's samples depend on its
// index and the seed only, not on the batch size or the other examples. With RunOptions::greedy
// every sample is an argmax. Sampling from a vector with a negative or non-finite entry, or one
// that sums to zero, is a user error.
//
// Batch size B: the batch dimension of the data tensors (they must agree), else the size of the
// given lengths/prime lengths, else 1. Every problem with the batch (a missing or misshapen
// tensor, an out-of-range token id or length) is a user Error naming the tensor; a malformed
// graph is an internal Error (run the Verifier first).
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rnnc::ir {

/// The element type the interpreter computes in.
enum class Precision { Float, Double };

struct RunOptions {
  Precision precision = Precision::Double;
  /// Seeds the sampling generators (see the file comment).
  uint64_t seed = 0;
  /// When true, `sample` takes the argmax instead of drawing.
  bool greedy = false;
  /// Threads a compiled backend may use (the interpreter uses one). Results do not depend on it.
  int threads = 1;
};

/// One batch: tensors and lengths. The maps are not copied; they must outlive the call.
struct Batch {
  const TensorMap *params = nullptr; ///< Parameters by name; null means none.
  const TensorMap *data = nullptr;   ///< Inputs and targets by name; null means none.
  /// Per axis: the length of every example ([B] values in [1, T]); absent means T for all.
  std::map<std::string, std::vector<int64_t>> lengths;
  /// Per axis: the prime length of every example, for generation ([B] values).
  std::map<std::string, std::vector<int64_t>> primeLengths;
  /// Per axis: T when no input or target tensor is over the axis (the steps to generate).
  std::map<std::string, int64_t> axisSteps;
};

/// What runGraph checks of a batch before it runs anything, for backends that share its
/// contract (compiled kernels): the batch size and, per base time axis, T, every example's length
/// and, for an axis with a generated input, every example's prime length.
struct BatchShape {
  int64_t batchSize = 1;
  std::map<std::string, int64_t> paddedLengths;
  std::map<std::string, std::vector<int64_t>> lengths, primeLengths;
};

/// Checks `batch` against `graph` exactly as runGraph does (the same errors, in the same order)
/// and returns its shape.
Expected<BatchShape> checkBatch(const Graph &graph, const Batch &batch);

/// Runs `graph` on every example of `batch` and returns its outputs by name.
Expected<TensorMap> runGraph(const Graph &graph, const Batch &batch,
                             const RunOptions &options = {});

} // namespace rnnc::ir
