// The tensors that go with a model's IR: random inputs for checks and benchmarks, the per-axis
// `lengths` tensors, and the checks of data against the model. Shared by the subcommands and the
// C++ API (rnnc/rnnc.h) so that every one of them agrees on names, dtypes, layouts and messages:
//   parameters       by their model names, unbatched, F32 (or F64 for checks)
//   inputs, targets  by their model names; sequences time-major [T, B, ...], static [B, ...];
//                    tokens I32, reals F32
//   lengths          I32 [B], named `lengths` when the model has one time axis, else
//                    `lengths.<axis>` for each axis
//
// It also holds the tensor-file metadata. The parameters themselves (initialisation, the
// parameter-file check) are in Parameters.h.
#pragma once

#include "ir/Graph.h"
#include "ir/Interpreter.h"
#include "runtime/Error.h"
#include "runtime/Safetensors.h"
#include "runtime/Tensor.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rnnc::model {

/// The time axes of `graph`'s inputs and targets, in order of first appearance.
std::vector<std::string> timeAxes(const ir::Graph &graph);

/// The tensor name that holds the lengths of `axis` in a model with `axes`.
std::string lengthsName(const std::vector<std::string> &axes, const std::string &axis);

/// Random inputs and targets for a batch: tokens uniform over the vocabulary, reals standard
/// normal; every axis gets `steps` steps (`stepsPerAxis` overrides per axis). When
/// `variableLengths`, each axis also gets a lengths tensor with the first sequence full length
/// and the others uniform in [1, steps].
struct RandomDataOptions {
  int64_t batch = 2;
  int64_t steps = 5;
  std::map<std::string, int64_t> stepsPerAxis;
  bool variableLengths = false;
  uint64_t seed = 0;
  DType realType = DType::F32;
};
TensorMap randomData(const ir::Graph &graph, const RandomDataOptions &options);

/// Checks that no tensor randomData would make for `options` has more than `maxElements`
/// elements, so a huge -D dim or batch is a user error rather than an allocation failure.
Status checkRandomDataSize(const ir::Graph &graph, const RandomDataOptions &options,
                           int64_t maxElements);

/// The lengths tensors of `data` as per-axis vectors, validating dtype I32 and rank 1 (the
/// interpreter checks the values against the batch). A `lengths` tensor for a model with several
/// axes, or `lengths.<axis>` for an unknown axis, is an error rather than silently ignored.
Expected<std::map<std::string, std::vector<int64_t>>> extractLengths(const ir::Graph &graph,
                                                                     const TensorMap &data);

/// The graph `name` of `module`; a user error naming the model when it has none.
Expected<const ir::Graph *> findGraph(const ir::Module &module, const std::string &name);

/// The sequences `graph` (a `generate` graph) generates: its prime inputs (ir::primeInputs, the
/// rule the interpreter and the JIT use), in the order of the inputs.
std::vector<const ir::Op *> generatedInputs(const ir::Graph &graph);

/// The number of examples: the batch dimension of the first tensor of `data` that `graph`
/// reads, else the size of a given lengths tensor, else 1 (the interpreter's rule).
int64_t batchSizeOf(const ir::Graph &graph, const TensorMap &data, const ir::Batch &batch);

/// Makes `batch` generate `steps` steps past each example's prime on every generated axis of
/// `generate`. An example's prime is the start of its generated names' tensors in `data`: as long
/// as its given length on the axis (batch.lengths), else the whole tensor, and never more than
/// `maxPrime` steps (a longer tensor is cut). Data that is not generated but runs over a
/// generated axis (Type II's inputs) must cover it. Shared by `rnnc run --generate` and the C++
/// API (rnnc/rnnc.h).
Status setUpGeneration(const ir::Graph &generate, TensorMap &data, int64_t steps,
                       std::optional<int64_t> maxPrime, ir::Batch &batch);

/// The tensors of `data` that are inputs or targets of `graph` (dropping the lengths tensors and
/// what the graph does not read).
TensorMap graphData(const ir::Graph &graph, const TensorMap &data);

/// The output of `forward` that predicts a target of type `target`: the class scores of a token
/// target (real [vocab] over its axis), or a value of a real target's type; the last such output
/// in declaration order, or null when there is none.
const ir::Op *predictionOutput(const ir::Graph &forward, const ir::Type &target);

/// Checks that every tensor of a data file is an input, target or lengths tensor of `graph`.
Status checkDataNames(const ir::Graph &graph, const TensorMap &data, const std::string &source);

/// The `__metadata__` of the tensor files written for a model: "model" (its name) and "dims"
/// ("K=65,H=128": the -D overrides that rebuild its shapes).
SafetensorsMetadata modelMetadata(const ir::Module &module);

} // namespace rnnc::model
