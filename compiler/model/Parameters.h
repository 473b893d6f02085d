// A model's parameters: their initial values, drawn as each `param` declaration says
// (`glorot`, `normal(0.01)` …, runtime/Init.h) from a seed, and the check of a parameter file
// against the model. `rnnc init`, `rnnc train`, `rnnc run --params` and the C++ API's
// ParameterStore all use these, so they agree value for value and message for message.
// Parameters are unbatched, by their model names, F32 (or F64 for checks).
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Init.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>

#include <set>
#include <string>

namespace rnnc::model {

/// The initialiser written in a `param` op's init attribute ("glorot", "normal(0.01)").
Expected<Initializer> parseInitializer(const std::string &spec);

/// Every parameter of `graph`, initialised from `seed` as its `param` op says.
Expected<TensorMap> initializeParameters(const ir::Graph &graph, uint64_t seed, DType dtype);

/// The names of `graph`'s `frozen param`s: initialised and saved like the others, but without
/// a gradient, an optimiser update or optimiser state.
std::set<std::string> frozenParameters(const ir::Graph &graph);

/// `params` without the frozen ones.
TensorMap trainedParameters(const TensorMap &params, const std::set<std::string> &frozen);

/// Checks a parameter file against the params of `graph`: every param present, F32 or F64, of
/// its shape, and no other tensor. `source` (the file) names where an unknown tensor came from.
Status checkParameters(const ir::Graph &graph, const TensorMap &params, const std::string &source);

} // namespace rnnc::model
