// The reference interpreter's batch layer (see Interpreter.h for the contract): checks the
// tensors and lengths of a batch against the graph, cuts each example's values out of the
// time-major tensors, runs the graph per example (InterpretExample.cpp) and lays the results out
// as output tensors.
#include "ir/Interpreter.h"

#include "ir/InterpretExample.h"
#include "runtime/Init.h"
#include "runtime/Safetensors.h"

#include <algorithm>
#include <set>
#include <unordered_set>

namespace rnnc::ir {

using interpret::Element;
using interpret::RuntimeValue;
using interpret::share;
using interpret::ValuePtr;

namespace {

/// An input or target of the graph and the tensor that holds it.
struct DataLeaf {
  const Op *op;
  const Tensor *tensor; ///< Null only for an absent prime.
  bool isPrime;

  const std::string &name() const { return op->nameAttr(); }
  const Type &type() const { return op->result()->type(); }
};

/// A batch checked against a graph: which tensor holds each leaf, and every length.
struct BatchLayout {
  int64_t batchSize = 1;
  std::vector<std::pair<const Op *, const Tensor *>> params;
  std::vector<DataLeaf> data;
  /// Per axis: T, the padded length of the tensors.
  std::map<std::string, int64_t> paddedLengths;
  /// Per axis: the length of every example; per axis with a prime: every example's prime length.
  std::map<std::string, std::vector<int64_t>> lengths, primeLengths;
};

std::string quoted(const std::string &text) { return "'" + text + "'"; }

std::string leafKind(const Op &op) {
  return op.kind() == OpKind::Param ? "parameter" : op.kind() == OpKind::Input ? "input" : "target";
}

/// "[T, B, 3]": the layout a data leaf's tensor must have.
std::string symbolicShape(const Type &type) {
  std::string text = type.isSequence() ? "[T, B" : "[B";
  for (int64_t dim : type.shape)
    text += ", " + std::to_string(dim);
  return text + "]";
}

Status checkRealDType(const std::string &name, const Tensor &tensor) {
  if (isFloatingPoint(tensor.dtype()))
    return Status::ok();
  return Error::user("tensor " + quoted(name) + " has dtype " +
                     std::string(dtypeName(tensor.dtype())) + ", expected F32 or F64");
}

/// The dtype, rank and batch size of a data leaf's tensor; sets `batchSource` from the first.
Status checkDataTensor(const DataLeaf &leaf, const DataLeaf *&batchSource) {
  const Tensor &tensor = *leaf.tensor;
  const Type &type = leaf.type();
  if (type.isToken()) {
    if (tensor.dtype() != DType::I32)
      return checkTensor(leaf.name(), tensor, DType::I32, tensor.shape());
  } else if (Status status = checkRealDType(leaf.name(), tensor); !status) {
    return status;
  }
  size_t batchDim = type.isSequence() ? 1 : 0;
  if (tensor.rank() != static_cast<int64_t>(batchDim + 1 + type.shape.size()))
    return Error::user("tensor " + quoted(leaf.name()) + " has shape " +
                       formatShape(tensor.shape()) + ", expected " + symbolicShape(type) + " for " +
                       leafKind(*leaf.op) + " " + quoted(leaf.name()) + " of type " + type.str());
  if (!batchSource) {
    batchSource = &leaf;
  } else {
    const Tensor &first = *batchSource->tensor;
    int64_t batch = first.shape()[batchSource->type().isSequence() ? 1 : 0];
    if (tensor.shape()[batchDim] != batch)
      return Error::user("tensor " + quoted(leaf.name()) + " has batch size " +
                         std::to_string(tensor.shape()[batchDim]) + ", but tensor " +
                         quoted(batchSource->name()) + " has " + std::to_string(batch));
  }
  std::vector<int64_t> expected;
  if (type.isSequence())
    expected.push_back(tensor.shape()[0]);
  expected.push_back(tensor.shape()[batchDim]);
  expected.insert(expected.end(), type.shape.begin(), type.shape.end());
  return checkTensor(leaf.name(), tensor, tensor.dtype(), expected);
}

Status checkPerExampleCount(const std::string &what, const std::string &axis,
                            const std::vector<int64_t> &values, int64_t batchSize) {
  if (static_cast<int64_t>(values.size()) == batchSize)
    return Status::ok();
  return Error::user(what + " of axis " + quoted(axis) + " has " + std::to_string(values.size()) +
                     " entries, expected one per example (" + std::to_string(batchSize) + ")");
}

/// T of one axis: the first dimension of its (non-prime) data tensors, else the given number of
/// steps, else the largest given length.
Expected<int64_t> paddedLength(const std::string &axis, const BatchLayout &layout,
                               const Batch &batch) {
  const DataLeaf *source = nullptr;
  for (const DataLeaf &leaf : layout.data) {
    if (leaf.isPrime || leaf.type().axis != axis)
      continue;
    if (source && leaf.tensor->shape()[0] != source->tensor->shape()[0])
      return Error::user("tensors " + quoted(source->name()) + " and " + quoted(leaf.name()) +
                         " are over axis " + quoted(axis) + " but have " +
                         std::to_string(source->tensor->shape()[0]) + " and " +
                         std::to_string(leaf.tensor->shape()[0]) + " steps");
    source = &leaf;
  }
  auto steps = batch.axisSteps.find(axis);
  if (source) {
    int64_t length = source->tensor->shape()[0];
    if (steps != batch.axisSteps.end() && steps->second != length)
      return Error::user("axis " + quoted(axis) + " is given " + std::to_string(steps->second) +
                         " steps, but tensor " + quoted(source->name()) + " has " +
                         std::to_string(length));
    return length;
  }
  if (steps != batch.axisSteps.end())
    return steps->second;
  auto lengths = batch.lengths.find(axis);
  if (lengths != batch.lengths.end() && !lengths->second.empty())
    return *std::max_element(lengths->second.begin(), lengths->second.end());
  return Error::user("no length for axis " + quoted(axis) +
                     ": no input or target tensor is over it; give its number of steps");
}

/// The prime lengths of one axis, checked against the prime tensors and the example lengths.
Status layoutPrimes(const std::string &axis, const Batch &batch, BatchLayout &layout) {
  std::vector<const DataLeaf *> primes;
  for (const DataLeaf &leaf : layout.data)
    if (leaf.isPrime && leaf.type().axis == axis)
      primes.push_back(&leaf);
  auto given = batch.primeLengths.find(axis);
  if (primes.empty()) {
    if (given != batch.primeLengths.end())
      return Error::user("prime lengths are given for axis " + quoted(axis) +
                         ", but no input over it is generated");
    return Status::ok();
  }
  std::vector<int64_t> &primeLengths = layout.primeLengths[axis];
  if (given != batch.primeLengths.end()) {
    if (Status status =
            checkPerExampleCount("prime lengths", axis, given->second, layout.batchSize);
        !status)
      return status;
    primeLengths = given->second;
  } else {
    const Tensor *tensor = primes.front()->tensor;
    primeLengths.assign(layout.batchSize, tensor ? tensor->shape()[0] : 0);
  }
  for (int64_t b = 0; b < layout.batchSize; ++b) {
    int64_t primeLength = primeLengths[b], length = layout.lengths[axis][b];
    std::string which = "prime length " + std::to_string(primeLength) + " of example " +
                        std::to_string(b) + " on axis " + quoted(axis);
    if (primeLength < 0 || primeLength > length)
      return Error::user(which + " is outside [0, " + std::to_string(length) + "]");
    for (const DataLeaf *prime : primes) {
      int64_t available = prime->tensor ? prime->tensor->shape()[0] : 0;
      if (primeLength > available && !prime->tensor)
        return Error::user(which + " needs the missing input tensor " + quoted(prime->name()));
      if (primeLength > available)
        return Error::user(which + " is longer than tensor " + quoted(prime->name()) + " (" +
                           std::to_string(available) + " steps)");
    }
  }
  return Status::ok();
}

/// Every token id an example reads (steps within its length, or its prime) is in range; padding
/// past the length is never read, so it may hold anything.
Status checkTokenIds(const DataLeaf &leaf, const BatchLayout &layout) {
  if (!leaf.type().isToken() || !leaf.tensor)
    return Status::ok();
  const Type &type = leaf.type();
  const int32_t *ids = leaf.tensor->data<int32_t>();
  for (int64_t b = 0; b < layout.batchSize; ++b) {
    int64_t steps = !type.isSequence() ? 1
                    : leaf.isPrime     ? layout.primeLengths.at(type.axis)[b]
                                       : layout.lengths.at(type.axis)[b];
    for (int64_t t = 0; t < steps; ++t) {
      int64_t id = ids[type.isSequence() ? t * layout.batchSize + b : b];
      if (id >= 0 && id < type.vocab)
        continue;
      std::vector<int64_t> index =
          type.isSequence() ? std::vector<int64_t>{t, b} : std::vector<int64_t>{b};
      return Error::user("tensor " + quoted(leaf.name()) + ": token id " + std::to_string(id) +
                         " at index " + formatShape(index) + " is out of range [0, " +
                         std::to_string(type.vocab) + ")");
    }
  }
  return Status::ok();
}

Expected<BatchLayout> layoutBatch(const Graph &graph, const Batch &batch) {
  static const TensorMap none;
  const TensorMap &params = batch.params ? *batch.params : none;
  const TensorMap &data = batch.data ? *batch.data : none;
  std::unordered_set<const Op *> primes = primeInputs(graph);
  BatchLayout layout;
  const DataLeaf *batchSource = nullptr;

  std::vector<const Op *> leaves;
  graph.body().walk([&](Op &op) {
    if (op.kind() == OpKind::Param || op.kind() == OpKind::Input || op.kind() == OpKind::Target)
      leaves.push_back(&op);
  });
  layout.data.reserve(leaves.size()); // batchSource points into it
  for (const Op *op : leaves) {
    const std::string &name = op->nameAttr();
    const TensorMap &source = op->kind() == OpKind::Param ? params : data;
    auto found = source.find(name);
    bool isPrime = primes.count(op) != 0;
    if (found == source.end() && !isPrime)
      return Error::user("missing " + leafKind(*op) + " tensor " + quoted(name));
    if (op->kind() == OpKind::Param) {
      if (Status status = checkRealDType(name, found->second); !status)
        return status.takeError();
      if (Status status =
              checkTensor(name, found->second, found->second.dtype(), op->result()->type().shape);
          !status)
        return status.takeError();
      layout.params.emplace_back(op, &found->second);
      continue;
    }
    layout.data.push_back({op, found == source.end() ? nullptr : &found->second, isPrime});
    if (layout.data.back().tensor)
      if (Status status = checkDataTensor(layout.data.back(), batchSource); !status)
        return status.takeError();
  }

  if (batchSource) {
    layout.batchSize = batchSource->tensor->shape()[batchSource->type().isSequence() ? 1 : 0];
  } else if (!batch.lengths.empty()) {
    layout.batchSize = static_cast<int64_t>(batch.lengths.begin()->second.size());
  } else if (!batch.primeLengths.empty()) {
    layout.batchSize = static_cast<int64_t>(batch.primeLengths.begin()->second.size());
  }
  if (layout.batchSize < 1)
    return Error::user("the batch is empty");

  std::set<std::string> axes = collectTimeAxes(graph);
  auto checkKnown = [&](const auto &perAxis, const std::string &what) -> Status {
    for (const auto &[axis, value] : perAxis)
      if (!axes.count(axis))
        return Error::user(what + " given for axis " + quoted(axis) +
                           ", which the graph does not have");
    return Status::ok();
  };
  for (Status status :
       {checkKnown(batch.lengths, "lengths"), checkKnown(batch.primeLengths, "prime lengths"),
        checkKnown(batch.axisSteps, "steps")})
    if (!status)
      return status.takeError();

  for (const std::string &axis : axes) {
    auto padded = paddedLength(axis, layout, batch);
    if (!padded)
      return padded.takeError();
    if (*padded < 1)
      return Error::user("axis " + quoted(axis) + " has no steps; every sequence needs one");
    layout.paddedLengths[axis] = *padded;
    std::vector<int64_t> &lengths = layout.lengths[axis];
    auto given = batch.lengths.find(axis);
    if (given == batch.lengths.end()) {
      lengths.assign(layout.batchSize, *padded);
      continue;
    }
    if (Status status = checkPerExampleCount("lengths", axis, given->second, layout.batchSize);
        !status)
      return status.takeError();
    lengths = given->second;
    for (int64_t b = 0; b < layout.batchSize; ++b)
      if (lengths[b] < 1 || lengths[b] > *padded)
        return Error::user("length " + std::to_string(lengths[b]) + " of example " +
                           std::to_string(b) + " on axis " + quoted(axis) + " is outside [1, " +
                           std::to_string(*padded) + "]");
  }
  for (const std::string &axis : axes)
    if (Status status = layoutPrimes(axis, batch, layout); !status)
      return status.takeError();
  for (const DataLeaf &leaf : layout.data)
    if (Status status = checkTokenIds(leaf, layout); !status)
      return status.takeError();
  return layout;
}

/// How an output's per-example values become one tensor (see Interpreter.h).
enum class OutputLayout { SummedOverBatch, PerExample };

struct OutputPlan {
  const Op *op;
  OutputLayout layout;
  Tensor tensor;
};

Expected<std::vector<OutputPlan>> planOutputs(const Graph &graph, const BatchLayout &batch,
                                              DType realType) {
  std::set<std::string> paramNames, outputNames;
  for (const auto &[param, tensor] : batch.params)
    paramNames.insert(param->nameAttr());
  std::vector<OutputPlan> plans;
  for (const Op *op : graph.opsOfKind(OpKind::Output)) {
    const std::string &name = op->nameAttr();
    if (!outputNames.insert(name).second)
      return Error::internal("two outputs are named " + quoted(name));
    const Type &type = op->operand(0)->type();
    if (parseSegmentAxis(type.axis))
      return Error::user("output " + quoted(name) + " is a sequence over the segment axis " +
                         quoted(type.axis) + ", which has no tensor layout");
    bool summed = name == "loss" || (name.starts_with("grad.") && paramNames.count(name.substr(5)));
    OutputLayout layout = summed && type.isReal() && !type.isSequence()
                              ? OutputLayout::SummedOverBatch
                              : OutputLayout::PerExample;
    std::vector<int64_t> shape;
    if (layout == OutputLayout::PerExample) {
      if (type.isSequence())
        shape.push_back(batch.paddedLengths.at(type.axis));
      shape.push_back(batch.batchSize);
    }
    shape.insert(shape.end(), type.shape.begin(), type.shape.end());
    plans.push_back({op, layout, Tensor(type.isToken() ? DType::I32 : realType, shape)});
  }
  return plans;
}

/// The seed of example b's sampling generator (documented in Interpreter.h).
uint64_t exampleSeed(uint64_t seed, int64_t example) {
  return parameterSeed(seed, "example." + std::to_string(example));
}

/// Runs every example in precision Real.
template <typename Real> class BatchRunner {
public:
  BatchRunner(const Graph &graph, const BatchLayout &layout, const RunOptions &options)
      : graph_(graph), layout_(layout), options_(options) {}

  Expected<TensorMap> run() {
    auto plans = planOutputs(graph_, layout_, dtypeOf<Real>());
    if (!plans)
      return plans.takeError();
    std::unordered_map<const Op *, ValuePtr<Real>> params;
    for (const auto &[op, tensor] : layout_.params)
      params[op] = share(RuntimeValue<Real>::single(readElement(*tensor, 0, op->result()->type())));

    for (int64_t b = 0; b < layout_.batchSize; ++b) {
      Rng rng(exampleSeed(options_.seed, b));
      interpret::Example<Real> example;
      example.leaves = params;
      for (const DataLeaf &leaf : layout_.data)
        example.leaves[leaf.op] = share(exampleValue(leaf, b));
      for (const auto &[axis, lengths] : layout_.lengths)
        example.axisLengths[axis] = lengths[b];
      for (const auto &[axis, primeLengths] : layout_.primeLengths)
        example.primeLengths[axis] = primeLengths[b];
      example.rng = &rng;
      example.greedy = options_.greedy;
      auto outputs = interpret::evaluateExample(graph_, example);
      if (!outputs)
        return outputs.takeError();
      for (OutputPlan &plan : *plans)
        writeOutput(plan, *outputs->at(plan.op), b);
    }
    TensorMap result;
    for (OutputPlan &plan : *plans)
      result.emplace(plan.op->nameAttr(), std::move(plan.tensor));
    return result;
  }

private:
  /// The element of `stepType` stored row-major at element `offset` of `tensor`.
  static Element<Real> readElement(const Tensor &tensor, int64_t offset, const Type &stepType) {
    Element<Real> element = interpret::zeroElement<Real>(stepType);
    if (stepType.isToken()) {
      element.token = tensor.data<int32_t>()[offset];
      return element;
    }
    for (int64_t i = 0; i < element.real.rows(); ++i)
      for (int64_t j = 0; j < element.real.cols(); ++j) {
        int64_t at = offset + i * element.real.cols() + j;
        element.real(i, j) = static_cast<Real>(
            tensor.dtype() == DType::F32 ? tensor.data<float>()[at] : tensor.data<double>()[at]);
      }
    return element;
  }

  /// Writes (or, when `accumulate`, adds) `element` row-major at element `offset` of `tensor`.
  static void writeElement(Tensor &tensor, int64_t offset, const Element<Real> &element,
                           bool accumulate) {
    if (tensor.dtype() == DType::I32) {
      tensor.data<int32_t>()[offset] = static_cast<int32_t>(element.token);
      return;
    }
    Real *values = tensor.data<Real>() + offset;
    for (int64_t i = 0; i < element.real.rows(); ++i)
      for (int64_t j = 0; j < element.real.cols(); ++j) {
        Real &target = values[i * element.real.cols() + j];
        target = accumulate ? target + element.real(i, j) : element.real(i, j);
      }
  }

  /// Example b's value of a data leaf: its slice of the tensor, its own length of steps. A prime
  /// is read for its prime length and padded with zeros to the axis length; feed never reads the
  /// padding.
  RuntimeValue<Real> exampleValue(const DataLeaf &leaf, int64_t b) const {
    Type stepType = leaf.type().stepType();
    int64_t size = stepType.numElements(), batchSize = layout_.batchSize;
    if (!leaf.type().isSequence())
      return RuntimeValue<Real>::single(readElement(*leaf.tensor, b * size, stepType));
    const std::string &axis = leaf.type().axis;
    int64_t length = layout_.lengths.at(axis)[b];
    int64_t given = leaf.isPrime ? layout_.primeLengths.at(axis)[b] : length;
    RuntimeValue<Real> sequence{true, {}};
    for (int64_t t = 0; t < length; ++t)
      sequence.steps.push_back(t < given
                                   ? readElement(*leaf.tensor, (t * batchSize + b) * size, stepType)
                                   : interpret::zeroElement<Real>(stepType));
    return sequence;
  }

  void writeOutput(OutputPlan &plan, const RuntimeValue<Real> &value, int64_t b) const {
    const Type &type = plan.op->operand(0)->type();
    int64_t size = type.stepType().numElements();
    switch (plan.layout) {
    case OutputLayout::SummedOverBatch:
      writeElement(plan.tensor, 0, value.at(0), /*accumulate=*/true);
      return;
    case OutputLayout::PerExample:
      if (!type.isSequence()) {
        writeElement(plan.tensor, b * size, value.at(0), /*accumulate=*/false);
        return;
      }
      for (size_t t = 0; t < value.steps.size(); ++t)
        writeElement(plan.tensor, (static_cast<int64_t>(t) * layout_.batchSize + b) * size,
                     value.steps[t], /*accumulate=*/false);
    }
  }

  const Graph &graph_;
  const BatchLayout &layout_;
  const RunOptions &options_;
};

} // namespace

Expected<TensorMap> runGraph(const Graph &graph, const Batch &batch, const RunOptions &options) {
  if (Status status = interpret::checkInterpretable(graph); !status)
    return status.takeError();
  auto layout = layoutBatch(graph, batch);
  if (!layout)
    return layout.takeError();
  if (options.precision == Precision::Float)
    return BatchRunner<float>(graph, *layout, options).run();
  return BatchRunner<double>(graph, *layout, options).run();
}

Expected<BatchShape> checkBatch(const Graph &graph, const Batch &batch) {
  if (Status status = interpret::checkInterpretable(graph); !status)
    return status.takeError();
  auto layout = layoutBatch(graph, batch);
  if (!layout)
    return layout.takeError();
  BatchShape shape;
  shape.batchSize = layout->batchSize;
  shape.paddedLengths = layout->paddedLengths;
  shape.lengths = layout->lengths;
  shape.primeLengths = layout->primeLengths;
  return shape;
}

} // namespace rnnc::ir
