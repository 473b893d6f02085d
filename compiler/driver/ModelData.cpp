#include "compiler/driver/ModelData.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace rnnc::driver {

Expected<Initializer> parseInitializer(const std::string &spec) {
  static const std::map<std::string, InitKind> plain = {{"zeros", InitKind::Zeros},
                                                        {"ones", InitKind::Ones},
                                                        {"glorot", InitKind::Glorot},
                                                        {"orthogonal", InitKind::Orthogonal}};
  if (auto it = plain.find(spec); it != plain.end())
    return Initializer{it->second, 0};
  for (auto [prefix, kind] : {std::pair{"uniform(", InitKind::Uniform},
                              std::pair{"normal(", InitKind::Normal}}) {
    std::string start = prefix;
    if (spec.rfind(start, 0) != 0 || spec.back() != ')')
      continue;
    std::string number = spec.substr(start.size(), spec.size() - start.size() - 1);
    errno = 0;
    char *end = nullptr;
    double scale = std::strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0' || errno == ERANGE)
      break;
    return Initializer{kind, scale};
  }
  return Error::user("unknown parameter initialiser '" + spec + "'");
}

Expected<TensorMap> initializeParameters(const ir::Graph &graph, uint64_t seed, DType dtype) {
  TensorMap parameters;
  for (const ir::Op *param : graph.opsOfKind(ir::OpKind::Param)) {
    const std::string &name = param->stringAttr("name");
    auto init = parseInitializer(param->stringAttr("init"));
    if (!init)
      return Error::user("parameter '" + name + "': " + init.error().message);
    auto tensor = makeParameter(name, dtype, param->result()->type().shape, *init, seed);
    if (!tensor)
      return tensor.takeError();
    parameters.emplace(name, tensor.take());
  }
  return parameters;
}

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
    data.emplace(op->stringAttr("name"), std::move(tensor));
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

Expected<std::map<std::string, std::vector<int64_t>>>
extractLengths(const ir::Graph &graph, const TensorMap &data) {
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

} // namespace rnnc::driver
