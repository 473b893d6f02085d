#include "compiler/model/FiniteOutputs.h"

#include "runtime/Optimizer.h"

#include <optional>
#include <tuple>

namespace rnnc::model {

namespace {

/// Where a non-finite value lies, ordered as the file comment says.
struct Finding {
  bool gradient = false; ///< A `grad.` output of the backward pass.
  int layout = 0;        ///< 0: per step, 1: per example, 2: summed over the batch.
  int64_t step = 0, example = 0;
  std::string name;
  NonFiniteElement element;

  auto key() const { return std::tie(gradient, layout, step, example, name); }
  std::string message() const {
    std::string where =
        layout == 0 ? " at step " + std::to_string(step) + " of example " + std::to_string(example)
        : layout == 1 ? " in example " + std::to_string(example)
                      : "";
    std::string index = element.index.empty() ? "" : " (element " + element.index + ")";
    return "output '" + name + "' is " + element.value + where + index;
  }
};

/// The first non-finite value of one output: a sequence is [T, B, ...] and a per-example value
/// [B, ...], with one dimension more than the value's type; a summed value has its type's shape.
std::optional<Finding> findNonFinite(const ir::Graph &graph, const std::string &name,
                                     const Tensor &tensor) {
  auto element = firstNonFinite(tensor);
  if (!element)
    return std::nullopt;
  Finding finding{name.starts_with("grad."), 2, 0, 0, name, *element};
  const ir::Op *output = graph.findOutput(name);
  if (!output)
    return finding;
  const ir::Type &type = output->operand(0)->type();
  const std::vector<int64_t> &shape = tensor.shape();
  int64_t width = type.numElements();
  if (type.isSequence() && tensor.rank() == type.rank() + 2 && shape[1] > 0) {
    finding.layout = 0;
    finding.step = element->flat / (shape[1] * width);
    finding.example = element->flat / width % shape[1];
  } else if (!type.isSequence() && tensor.rank() == type.rank() + 1) {
    finding.layout = 1;
    finding.example = element->flat / width;
  }
  return finding;
}

} // namespace

Status checkOutputsFinite(const ir::Graph &graph, const TensorMap &outputs) {
  std::optional<Finding> first;
  for (const auto &[name, tensor] : outputs) {
    auto finding = findNonFinite(graph, name, tensor);
    if (finding && (!first || finding->key() < first->key()))
      first = std::move(finding);
  }
  if (first)
    return Error::user(first->message());
  return Status::ok();
}

} // namespace rnnc::model
