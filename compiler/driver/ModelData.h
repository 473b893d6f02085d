// Tensors that go with a model's IR: initial parameters, random inputs for checks and
// benchmarks, and the per-axis `lengths` tensors. Shared by the init, data, run and gradcheck
// subcommands so that every one of them agrees on names, dtypes and layouts:
//   parameters       by their model names, unbatched, F32 (or F64 for checks)
//   inputs, targets  by their model names; sequences time-major [T, B, ...], static [B, ...];
//                    tokens I32, reals F32
//   lengths          I32 [B], named `lengths` when the model has one time axis, else
//                    `lengths.<axis>` for each axis
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Init.h"
#include "runtime/Tensor.h"

#include <map>
#include <string>
#include <vector>

namespace rnnc::driver {

/// The initialiser written in a `param` op's init attribute ("glorot", "normal(0.01)").
Expected<Initializer> parseInitializer(const std::string &spec);

/// Every parameter of `graph`, initialised from `seed` as its `param` op says.
Expected<TensorMap> initializeParameters(const ir::Graph &graph, uint64_t seed, DType dtype);

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

/// The lengths tensors of `data` as per-axis vectors, validating dtype I32 and rank 1 (the
/// interpreter checks the values against the batch). A `lengths` tensor for a model with several
/// axes, or `lengths.<axis>` for an unknown axis, is an error rather than silently ignored.
Expected<std::map<std::string, std::vector<int64_t>>>
extractLengths(const ir::Graph &graph, const TensorMap &data);

} // namespace rnnc::driver
