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

namespace {

/// " (the file has 'lstm.weight_ih_l0': --rename lstm.= maps it)" when a dotted tensor of
/// `params` is `name` behind a prefix (`lstm.`) or with its first dot for an underscore
/// (`linear.weight` for `linear_weight`), else "".
std::string renameHint(const TensorMap &params, const std::string &name) {
  for (const auto &[held, tensor] : params) {
    size_t dot = held.find('.');
    if (dot == std::string::npos)
      continue;
    std::string rule;
    if (held.size() > name.size() + 1 &&
        held.compare(held.size() - name.size() - 1, name.size() + 1, "." + name) == 0)
      rule = held.substr(0, held.size() - name.size()) + "=";
    else if (held.substr(0, dot) + "_" + held.substr(dot + 1) == name)
      rule = held.substr(0, dot + 1) + "=" + held.substr(0, dot) + "_";
    if (!rule.empty())
      return " (the file has '" + held + "': --rename " + rule + " maps it)";
  }
  return "";
}

} // namespace

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
      return Error::user(source + ": parameter '" + name + "' is missing" +
                         renameHint(params, name));
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

Expected<ParameterRename> parseParameterRename(const std::string &text) {
  size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0)
    return Error::user("option '--rename' expects PREFIX=REPLACEMENT (e.g. lstm.= or "
                       "linear.=linear_), got '" +
                       text + "'");
  return ParameterRename{text.substr(0, equals), text.substr(equals + 1)};
}

Expected<TensorMap> readParameters(const ir::Graph &graph, const std::string &path,
                                   const std::vector<ParameterRename> &renames) {
  auto file = readSafetensors(path);
  if (!file)
    return file.takeError();
  TensorMap params;
  std::map<std::string, std::string> originalNames; // by the name it is renamed to
  for (auto &[name, tensor] : *file) {
    const ParameterRename *rule = nullptr;
    for (const ParameterRename &candidate : renames)
      if (name.rfind(candidate.prefix, 0) == 0 &&
          (!rule || candidate.prefix.size() > rule->prefix.size()))
        rule = &candidate;
    std::string renamed = rule ? rule->replacement + name.substr(rule->prefix.size()) : name;
    if (auto [clash, fresh] = originalNames.emplace(renamed, name); !fresh)
      return Error::user(path + ": tensors '" + clash->second + "' and '" + name +
                         "' both become '" + renamed + "'");
    params.emplace(renamed, std::move(tensor));
  }
  if (Status checked = checkParameters(graph, params, path); !checked)
    return checked.takeError();
  for (auto it = params.begin(); it != params.end();)
    it = it->first.find('.') == std::string::npos ? std::next(it) : params.erase(it);
  return params;
}

} // namespace rnnc::model
