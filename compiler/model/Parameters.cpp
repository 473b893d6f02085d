#include "compiler/model/Parameters.h"

#include "runtime/Safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>

namespace rnnc::model {

Expected<Initializer> parseInitializer(const std::string &spec) {
  static const std::map<std::string, InitKind> plain = {{"zeros", InitKind::Zeros},
                                                        {"ones", InitKind::Ones},
                                                        {"glorot", InitKind::Glorot},
                                                        {"orthogonal", InitKind::Orthogonal}};
  if (auto it = plain.find(spec); it != plain.end())
    return Initializer{it->second, 0};
  for (auto [prefix, kind] :
       {std::pair{"uniform(", InitKind::Uniform}, std::pair{"normal(", InitKind::Normal}}) {
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
    const std::string &name = param->nameAttr();
    auto init = parseInitializer(param->initAttr());
    if (!init)
      return Error::user("parameter '" + name + "': " + init.error().message);
    auto tensor = makeParameter(name, dtype, param->result()->type().shape, *init, seed);
    if (!tensor)
      return tensor.takeError();
    parameters.emplace(name, tensor.take());
  }
  return parameters;
}

std::set<std::string> frozenParameters(const ir::Graph &graph) {
  std::set<std::string> frozen;
  for (const ir::Op *param : graph.opsOfKind(ir::OpKind::Param))
    if (param->frozenAttr() != 0)
      frozen.insert(param->nameAttr());
  return frozen;
}

TensorMap trainedParameters(const TensorMap &params, const std::set<std::string> &frozen) {
  TensorMap trained;
  for (const auto &[name, tensor] : params)
    if (!frozen.count(name))
      trained.emplace(name, tensor);
  return trained;
}

Status checkParameters(const ir::Graph &graph, const TensorMap &params, const std::string &source) {
  std::vector<ir::Op *> paramOps = graph.opsOfKind(ir::OpKind::Param);
  for (const ir::Op *param : paramOps) {
    const std::string &name = param->nameAttr();
    auto tensor = params.find(name);
    if (tensor == params.end())
      return Error::user(source + ": parameter '" + name + "' is missing");
    DType expected = tensor->second.dtype() == DType::F64 ? DType::F64 : DType::F32;
    if (Status status = checkTensor(name, tensor->second, expected, param->result()->type().shape);
        !status)
      return Error::user(source + ": " + status.error().message);
  }
  for (const auto &[name, tensor] : params) {
    // Parameter names are identifiers; dotted names (`optimizer.*`, `train.*`) are the training
    // state a checkpoint carries beside the parameters, so a checkpoint is a parameter file.
    if (name.find('.') != std::string::npos)
      continue;
    auto isParam = [&](const ir::Op *param) { return param->nameAttr() == name; };
    if (std::none_of(paramOps.begin(), paramOps.end(), isParam))
      return Error::user(source + ": tensor '" + name + "' is not a parameter of the model");
  }
  return Status::ok();
}

} // namespace rnnc::model
