// A model's parameters: their initial values, drawn as each `param` declaration says
// (`glorot`, `normal(0.01)` …, runtime/Init.h) from a seed, and the check of a parameter file
// against the model, and reading one made elsewhere (a PyTorch state_dict: --rename). `rnnc init`,
// `rnnc train`, `rnnc run --params` and the C++ API's ParameterStore all use these, so they agree
// value for value and message for message.
// Parameters are unbatched, by their model names, F32 (or F64 for checks).
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Init.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

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
/// A missing param that the file holds under a dotted name (PyTorch's `lstm.weight_ih_l0`) is
/// reported with the --rename that maps it.
Status checkParameters(const ir::Graph &graph, const TensorMap &params, const std::string &source);

/// One `--rename PREFIX=REPLACEMENT` rule: a tensor name starting with `prefix` gets
/// `replacement` instead (`lstm.=` maps `lstm.weight_ih_l0` to `weight_ih_l0`, `linear.=linear_`
/// maps `linear.weight` to `linear_weight`).
struct ParameterRename {
  std::string prefix, replacement;
};

/// Parses "PREFIX=REPLACEMENT" (the prefix must not be empty; the replacement may be).
Expected<ParameterRename> parseParameterRename(const std::string &text);

/// The parameter file at `path` for `graph`, its names mapped by `renames` (of the rules whose
/// prefix starts a name, the longest applies; two tensors renamed to one name are an error) and
/// then checked as checkParameters checks them. F16 and BF16 tensors arrive as F32 (the reader
/// widens them); checkpoint state and other dotted names are dropped.
Expected<TensorMap> readParameters(const ir::Graph &graph, const std::string &path,
                                   const std::vector<ParameterRename> &renames = {});

} // namespace rnnc::model
