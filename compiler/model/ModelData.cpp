#include "compiler/model/ModelData.h"

#include "runtime/Init.h"

#include <algorithm>

namespace rnnc::model {

namespace {
std::vector<const ir::Op *> dataOps(const ir::Graph &graph) {
  std::vector<const ir::Op *> ops;
  for (const auto &op : graph.body().ops())
    if (op->kind() == ir::OpKind::Input || op->kind() == ir::OpKind::Target)
      ops.push_back(op.get());
  return ops;
}
} // namespace

std::vector<std::string> timeAxes(const ir::Graph &graph) {
  std::vector<std::string> axes;
  for (const ir::Op *op : dataOps(graph)) {
    const std::string &axis = op->result()->type().axis;
    if (!axis.empty() && std::find(axes.begin(), axes.end(), axis) == axes.end())
      axes.push_back(axis);
  }
  return axes;
}

std::string lengthsName(const std::vector<std::string> &axes, const std::string &axis) {
  return axes.size() == 1 ? "lengths" : "lengths." + axis;
}

TensorMap randomData(const ir::Graph &graph, const RandomDataOptions &options) {
  TensorMap data;
  Rng rng(options.seed);
  auto stepsOf = [&](const std::string &axis) {
    auto it = options.stepsPerAxis.find(axis);
    return it == options.stepsPerAxis.end() ? options.steps : it->second;
  };
  for (const ir::Op *op : dataOps(graph)) {
    const ir::Type &type = op->result()->type();
    std::vector<int64_t> shape;
    if (type.isSequence())
      shape.push_back(stepsOf(type.axis));
    shape.push_back(options.batch);
    shape.insert(shape.end(), type.shape.begin(), type.shape.end());
    Tensor tensor(type.isToken() ? DType::I32 : options.realType, shape);
    if (type.isToken()) {
      for (int32_t &id : tensor.values<int32_t>())
        id = static_cast<int32_t>(rng.nextU64() % static_cast<uint64_t>(type.vocab));
    } else if (options.realType == DType::F64) {
      for (double &value : tensor.values<double>())
        value = rng.normal();
    } else {
      for (float &value : tensor.values<float>())
        value = static_cast<float>(rng.normal());
    }
    data.emplace(op->nameAttr(), std::move(tensor));
  }
  if (options.variableLengths) {
    std::vector<std::string> axes = timeAxes(graph);
    for (const std::string &axis : axes) {
      int64_t steps = stepsOf(axis);
      Tensor lengths(DType::I32, {options.batch});
      auto values = lengths.values<int32_t>();
      for (int64_t b = 0; b < options.batch; ++b)
        values[b] = b == 0 ? static_cast<int32_t>(steps)
                           : static_cast<int32_t>(1 + rng.nextU64() % uint64_t(steps));
      data.emplace(lengthsName(axes, axis), std::move(lengths));
    }
  }
  return data;
}

Status checkRandomDataSize(const ir::Graph &graph, const RandomDataOptions &options,
                           int64_t maxElements) {
  auto stepsOf = [&](const std::string &axis) {
    auto it = options.stepsPerAxis.find(axis);
    return it == options.stepsPerAxis.end() ? options.steps : it->second;
  };
  for (const ir::Op *op : dataOps(graph)) {
    const ir::Type &type = op->result()->type();
    // Divide rather than multiply so that the check itself cannot overflow.
    int64_t limit = maxElements / options.batch;
    if (type.isSequence())
      limit /= stepsOf(type.axis);
    for (int64_t dim : type.shape)
      limit /= dim;
    if (limit < 1)
      return Error::user("tensor '" + op->nameAttr() + "' would have more than " +
                         std::to_string(maxElements) + " elements");
  }
  return Status::ok();
}

Expected<std::map<std::string, std::vector<int64_t>>> extractLengths(const ir::Graph &graph,
                                                                     const TensorMap &data) {
  std::vector<std::string> axes = timeAxes(graph);
  std::map<std::string, std::vector<int64_t>> lengths;
  for (const auto &[name, tensor] : data) {
    if (name != "lengths" && name.rfind("lengths.", 0) != 0)
      continue;
    auto axis = std::find_if(axes.begin(), axes.end(),
                             [&](const std::string &a) { return lengthsName(axes, a) == name; });
    if (axis == axes.end()) {
      std::string expected;
      for (const std::string &a : axes)
        expected += (expected.empty() ? "'" : ", '") + lengthsName(axes, a) + "'";
      return Error::user("tensor '" + name + "' names no time axis of the model (expected " +
                         (expected.empty() ? std::string("none") : expected) + ")");
    }
    if (tensor.dtype() != DType::I32 || tensor.rank() != 1)
      return Error::user("tensor '" + name + "' must be I32 of shape [B], got " +
                         std::string(dtypeName(tensor.dtype())) + " " +
                         formatShape(tensor.shape()));
    auto values = tensor.values<int32_t>();
    lengths[*axis] = std::vector<int64_t>(values.begin(), values.end());
  }
  return lengths;
}

Expected<const ir::Graph *> findGraph(const ir::Module &module, const std::string &name) {
  if (const ir::Graph *graph = module.findGraph(name))
    return graph;
  return Error::user("model '" + module.name() + "' has no '" + name + "' graph");
}

std::vector<const ir::Op *> generatedInputs(const ir::Graph &graph) {
  std::unordered_set<const ir::Op *> primes = ir::primeInputs(graph);
  std::vector<const ir::Op *> generated;
  for (const ir::Op *input : graph.opsOfKind(ir::OpKind::Input))
    if (primes.count(input))
      generated.push_back(input);
  return generated;
}

Status checkDataNames(const ir::Graph &graph, const TensorMap &data, const std::string &source) {
  std::vector<const ir::Op *> ops = dataOps(graph);
  std::vector<std::string> axes = timeAxes(graph);
  for (const auto &[name, tensor] : data) {
    auto isData = [&](const ir::Op *op) { return op->nameAttr() == name; };
    auto isLengths = [&](const std::string &axis) { return lengthsName(axes, axis) == name; };
    if (std::none_of(ops.begin(), ops.end(), isData) &&
        std::none_of(axes.begin(), axes.end(), isLengths))
      return Error::user(source + ": tensor '" + name +
                         "' is not an input, target or lengths tensor of the model");
  }
  return Status::ok();
}

const ir::Op *predictionOutput(const ir::Graph &forward, const ir::Type &target) {
  ir::Type wanted = target.isToken() ? ir::Type::real({target.vocab}, target.axis) : target;
  const ir::Op *prediction = nullptr;
  for (const ir::Op *output : forward.opsOfKind(ir::OpKind::Output))
    if (output->operand(0)->type() == wanted)
      prediction = output;
  return prediction;
}

SafetensorsMetadata modelMetadata(const ir::Module &module) {
  std::string dims;
  for (const auto &[name, value] : module.dims())
    dims += (dims.empty() ? "" : ",") + name + "=" + std::to_string(value);
  return {{"model", module.name()}, {"dims", dims}};
}

TensorMap graphData(const ir::Graph &graph, const TensorMap &data) {
  TensorMap used;
  for (ir::OpKind kind : {ir::OpKind::Input, ir::OpKind::Target})
    for (const ir::Op *op : graph.opsOfKind(kind))
      if (auto tensor = data.find(op->nameAttr()); tensor != data.end())
        used.insert(*tensor);
  return used;
}

int64_t batchSizeOf(const ir::Graph &graph, const TensorMap &data, const ir::Batch &batch) {
  for (ir::OpKind kind : {ir::OpKind::Input, ir::OpKind::Target})
    for (const ir::Op *op : graph.opsOfKind(kind)) {
      auto tensor = data.find(op->nameAttr());
      size_t batchDim = op->result()->type().isSequence() ? 1 : 0;
      if (tensor != data.end() && tensor->second.rank() > int64_t(batchDim))
        return tensor->second.shape()[batchDim];
    }
  return batch.lengths.empty() ? 1 : int64_t(batch.lengths.begin()->second.size());
}

namespace {

/// The first `steps` steps of a time-major sequence tensor.
Tensor firstSteps(const Tensor &sequence, int64_t steps) {
  std::vector<int64_t> shape = sequence.shape();
  shape[0] = steps;
  Tensor prefix(sequence.dtype(), shape);
  std::copy_n(sequence.bytes(), prefix.byteSize(), prefix.bytes());
  return prefix;
}

/// Checks that the tensors `generate` reads over a generated `axis`, other than the primes, have
/// a step for every generated one.
Status checkGeneratedAxisCovered(const ir::Graph &generate, const TensorMap &data,
                                 const std::string &axis, const std::vector<int64_t> &lengths) {
  std::vector<const ir::Op *> primes = generatedInputs(generate);
  int64_t longest = lengths.empty() ? 0 : *std::max_element(lengths.begin(), lengths.end());
  for (ir::OpKind kind : {ir::OpKind::Input, ir::OpKind::Target})
    for (const ir::Op *op : generate.opsOfKind(kind)) {
      auto tensor = data.find(op->nameAttr());
      if (op->result()->type().axis != axis || tensor == data.end() ||
          std::find(primes.begin(), primes.end(), op) != primes.end() || tensor->second.rank() == 0)
        continue;
      if (tensor->second.shape()[0] < longest)
        return Error::user("generating to step " + std::to_string(longest) + " of axis '" + axis +
                           "' needs that many steps of '" + tensor->first + "', which has " +
                           std::to_string(tensor->second.shape()[0]) +
                           " (use a shorter prime, --prime, or fewer steps)");
    }
  return Status::ok();
}

} // namespace

Status setUpGeneration(const ir::Graph &generate, TensorMap &data, int64_t steps,
                       std::optional<int64_t> maxPrime, ir::Batch &batch) {
  int64_t examples = batchSizeOf(generate, data, batch);
  for (const ir::Op *input : generatedInputs(generate)) {
    const std::string &name = input->nameAttr(), &axis = input->result()->type().axis;
    auto prime = data.find(name);
    int64_t primeSteps =
        prime == data.end() || prime->second.rank() == 0 ? 0 : prime->second.shape()[0];
    if (maxPrime && primeSteps > *maxPrime) {
      prime->second = firstSteps(prime->second, *maxPrime);
      primeSteps = *maxPrime;
    }
    if (batch.primeLengths.count(axis))
      continue;
    std::vector<int64_t> &lengths = batch.lengths[axis];
    if (lengths.empty())
      lengths.assign(size_t(examples), primeSteps);
    std::vector<int64_t> &primeLengths = batch.primeLengths[axis];
    for (int64_t &length : lengths) {
      primeLengths.push_back(std::min(length, primeSteps));
      length = primeLengths.back() + steps;
    }
    if (Status covered = checkGeneratedAxisCovered(generate, data, axis, lengths); !covered)
      return covered;
  }
  return Status::ok();
}

} // namespace rnnc::model
