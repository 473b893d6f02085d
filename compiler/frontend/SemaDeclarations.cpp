// Sema phase 1: declarations. Builds the symbol table (reporting duplicates), evaluates dims
// with their -D overrides, declares the time axes from inputs and targets, resolves the types of
// inputs, targets and parameters, validates parameter initialisers, and attaches initial values
// and generate clauses to the values they name.
#include "compiler/frontend/SemaState.h"

#include <algorithm>

namespace rnnc::frontend {
namespace {

using namespace ast;

std::string describeDecl(const Decl &decl) {
  switch (decl.kind) {
  case DeclKind::Dim:
    return "a dim";
  case DeclKind::Input:
    return "an input";
  case DeclKind::Target:
    return "a target";
  case DeclKind::Param:
    return "a parameter";
  case DeclKind::Definition:
    return "a definition";
  }
  return "declaration";
}

void declareSymbols(SemaState &state) {
  Model &model = state.model;
  std::vector<Decl *> decls;
  for (auto &dim : model.dims)
    decls.push_back(dim.get());
  for (auto &data : model.inputs)
    decls.push_back(data.get());
  for (auto &data : model.targets)
    decls.push_back(data.get());
  for (auto &param : model.params)
    decls.push_back(param.get());
  for (auto &definition : model.definitions)
    decls.push_back(definition.get());
  std::stable_sort(decls.begin(), decls.end(),
                   [](const Decl *a, const Decl *b) { return a->loc.offset < b->loc.offset; });
  for (Decl *decl : decls) {
    auto [it, inserted] = state.symbols.emplace(decl->name, decl);
    if (!inserted) {
      state.diags.error(decl->loc, "duplicate definition of '" + decl->name + "'");
      state.diags.note(it->second->loc, "'" + decl->name + "' is first declared here, as " +
                                            describeDecl(*it->second));
    }
  }
}

void checkDims(SemaState &state) {
  Model &model = state.model;
  for (auto &dim : model.dims) {
    dim->value = dim->declaredValue;
    bool valid = true;
    if (dim->declaredValue <= 0) {
      state.diags.error(dim->valueLoc, "dim '" + dim->name + "' must be positive, got " +
                                           std::to_string(dim->declaredValue));
      valid = false;
    } else if (dim->declaredValue > kMaxDimValue) {
      state.diags.error(dim->valueLoc, "dim '" + dim->name +
                                           "' is too large: " + std::to_string(dim->declaredValue) +
                                           " does not fit in 32 bits");
      valid = false;
    }
    auto override = state.dimOverrides.find(dim->name);
    if (override != state.dimOverrides.end()) {
      dim->isOverridden = true;
      dim->value = override->second;
      valid = override->second > 0 && override->second <= kMaxDimValue;
      if (!valid)
        state.diags.error(dim->loc, "-D " + dim->name + "=" + std::to_string(override->second) +
                                        ": a dim must be a positive 32-bit integer");
    }
    if (!valid)
      state.invalidDims.insert(dim.get());
  }
  for (const auto &[name, value] : state.dimOverrides) {
    auto symbol = state.symbols.find(name);
    if (symbol == state.symbols.end() || symbol->second->kind != DeclKind::Dim) {
      std::string known;
      for (auto &dim : model.dims)
        known += (known.empty() ? "" : ", ") + dim->name;
      state.diags.error(model.loc, "-D " + name + "=" + std::to_string(value) + ": model '" +
                                       model.name + "' has no dim '" + name + "'" +
                                       (known.empty() ? "" : " (its dims: " + known + ")"));
    }
  }
}

void declareAxes(SemaState &state) {
  Model &model = state.model;
  std::vector<DataDecl *> data;
  for (auto &input : model.inputs)
    data.push_back(input.get());
  for (auto &target : model.targets)
    data.push_back(target.get());
  std::stable_sort(data.begin(), data.end(), [](const DataDecl *a, const DataDecl *b) {
    return a->loc.offset < b->loc.offset;
  });
  for (DataDecl *decl : data) {
    if (decl->axis.empty())
      continue;
    auto [it, inserted] = state.axisIndex.emplace(decl->axis, model.axes.size());
    if (inserted)
      model.axes.push_back(Axis{decl->axis, decl->axisLoc, {}});
    model.axes[it->second].data.push_back(decl);
  }
}

/// Resolves a written type; Unknown after an error.
ValueType resolveType(SemaState &state, TypeSyntax &syntax, const std::string &what) {
  std::vector<int64_t> values;
  bool valid = true;
  for (auto &dim : syntax.dims) {
    auto value = evaluateDimExpr(state, *dim, /*report=*/true);
    if (!value) {
      valid = false;
      continue;
    }
    if (*value <= 0) {
      state.diags.error(dim->loc, std::string(syntax.isToken ? "vocabulary" : "dimension") + " '" +
                                      formatDimExpr(*dim) + "' of " + what +
                                      " must be positive, got " + std::to_string(*value));
      valid = false;
    }
    values.push_back(*value);
  }
  if (!valid)
    return {};
  if (syntax.isToken)
    return ValueType::token(values.front());
  if (values.size() > 2) {
    state.diags.error(syntax.loc, what + " has " + std::to_string(values.size()) +
                                      " dimensions; values are scalars [], vectors [n] or " +
                                      "matrices [m, n]");
    return {};
  }
  if (!checkElementCount(state, values, syntax.loc, what, /*report=*/true))
    return {};
  return ValueType::real(std::move(values));
}

void checkParamInit(SemaState &state, ParamDecl &param) {
  ParamInit &init = param.init;
  int rank = param.type.isReal() ? static_cast<int>(param.type.shape.size()) : -1;
  if (init.isDefault) {
    init.kind = rank == 2 ? ParamInit::Kind::Glorot : ParamInit::Kind::Zeros;
    return;
  }
  struct Known {
    const char *name;
    ParamInit::Kind kind;
    bool takesScale;
  };
  static const Known kKnown[] = {
      {"zeros", ParamInit::Kind::Zeros, false},
      {"ones", ParamInit::Kind::Ones, false},
      {"glorot", ParamInit::Kind::Glorot, false},
      {"orthogonal", ParamInit::Kind::Orthogonal, false},
      {"normal", ParamInit::Kind::Normal, true},
      {"uniform", ParamInit::Kind::Uniform, true},
  };
  const Known *known = nullptr;
  for (const Known &candidate : kKnown)
    if (init.name == candidate.name)
      known = &candidate;
  if (!known) {
    state.diags.error(init.loc, "unknown initialiser '" + init.name + "' for parameter '" +
                                    param.name +
                                    "' (expected zeros, ones, glorot, orthogonal, normal(s) or "
                                    "uniform(a))");
    return;
  }
  init.kind = known->kind;
  if (known->takesScale && !init.hasArgument) {
    state.diags.error(init.loc, "initialiser '" + init.name + "' needs a scale, e.g. '" +
                                    init.name + "(0.1)'");
    return;
  }
  if (!known->takesScale && init.hasArgument) {
    state.diags.error(init.loc, "initialiser '" + init.name + "' takes no argument");
    return;
  }
  if (known->takesScale && !(init.scale > 0)) {
    state.diags.error(init.loc, "the scale of '" + init.name + "' must be positive");
    return;
  }
  bool needsMatrix =
      init.kind == ParamInit::Kind::Glorot || init.kind == ParamInit::Kind::Orthogonal;
  if (needsMatrix && rank >= 0 && rank != 2)
    state.diags.error(init.loc, "initialiser '" + init.name + "' needs a matrix, but '" +
                                    param.name + "' has shape " + param.type.str());
}

void resolveTypes(SemaState &state) {
  Model &model = state.model;
  for (auto *list : {&model.inputs, &model.targets})
    for (auto &data : *list)
      data->type =
          resolveType(state, data->typeSyntax,
                      std::string(data->isInput() ? "input" : "target") + " '" + data->name + "'");
  for (auto &param : model.params) {
    if (param->typeSyntax.isToken) {
      state.diags.error(param->typeSyntax.loc,
                        "parameter '" + param->name +
                            "' must be real-valued; tokens are only for inputs and targets");
      continue;
    }
    param->type = resolveType(state, param->typeSyntax, "parameter '" + param->name + "'");
    checkParamInit(state, *param);
  }
  for (auto &definition : model.definitions)
    if (definition->isPerStep() && !state.findAxis(definition->axis))
      state.diags.error(definition->axisLoc, "axis '" + definition->axis + "' of '" +
                                                 definition->name +
                                                 "' is not declared by any input or target");
}

void attachInitialValues(SemaState &state) {
  for (auto &initial : state.model.initials) {
    std::string written = initial->name + (initial->isAtEnd ? "[last+1]" : "[0]");
    auto symbol = state.symbols.find(initial->name);
    if (symbol == state.symbols.end()) {
      state.diags.error(initial->loc, "initial value for undefined name '" + initial->name + "'");
      continue;
    }
    if (symbol->second->kind == DeclKind::Dim) {
      state.diags.error(initial->loc,
                        "'" + initial->name + "' is a dim; '" + written + "' cannot be given");
      continue;
    }
    auto *value = static_cast<ValueDecl *>(symbol->second);
    if (!value->isPerStep()) {
      state.diags.error(initial->loc, "'" + initial->name +
                                          "' is static (one value per sequence): it has no " +
                                          "steps, so '" + written + "' cannot be given");
      continue;
    }
    InitialValue *&slot = initial->isAtEnd ? value->initialEnd : value->initialStart;
    if (slot) {
      state.diags.error(initial->loc, "duplicate initial value '" + written + "'");
      state.diags.note(slot->loc, "previous initial value is here");
      continue;
    }
    slot = initial.get();
    initial->target = value;
  }
}

void attachGenerateClauses(SemaState &state) {
  for (auto &clause : state.model.generates) {
    auto symbol = state.symbols.find(clause->name);
    if (symbol == state.symbols.end()) {
      state.diags.error(clause->loc, "generate of undefined name '" + clause->name + "'");
      continue;
    }
    Decl *decl = symbol->second;
    if (decl->kind != DeclKind::Input && decl->kind != DeclKind::Target) {
      state.diags.error(clause->loc, "only an input or target can be generated; '" + clause->name +
                                         "' is " + describeDecl(*decl));
      continue;
    }
    auto *data = static_cast<DataDecl *>(decl);
    if (!data->isPerStep()) {
      state.diags.error(clause->loc, "'" + clause->name +
                                         "' is static (one value per sequence) and cannot be "
                                         "generated step by step");
      continue;
    }
    if (clause->indexAxis != data->axis) {
      state.diags.error(clause->loc, "'" + clause->name + "' is over axis '" + data->axis +
                                         "', not '" + clause->indexAxis + "'");
      continue;
    }
    if (data->generatedBy) {
      state.diags.error(clause->loc, "'" + clause->name + "' is generated twice");
      state.diags.note(data->generatedBy->loc, "previous generate clause is here");
      continue;
    }
    data->generatedBy = clause.get();
    clause->target = data;
  }
}

} // namespace

std::optional<int64_t> evaluateDimExpr(SemaState &state, DimExpr &expr, bool report) {
  auto fail = [&](const std::string &message) -> std::optional<int64_t> {
    if (report)
      state.diags.error(expr.loc, message);
    return std::nullopt;
  };
  std::optional<int64_t> result;
  switch (expr.kind) {
  case DimExpr::Kind::Integer:
    if (expr.integer > kMaxDimValue)
      return fail("dim value " + std::to_string(expr.integer) + " does not fit in 32 bits");
    result = expr.integer;
    break;
  case DimExpr::Kind::Name: {
    auto symbol = state.symbols.find(expr.name);
    if (symbol == state.symbols.end())
      return fail("undefined dim '" + expr.name + "'");
    if (symbol->second->kind != DeclKind::Dim)
      return fail("'" + expr.name + "' is not a dim");
    auto *dim = static_cast<DimDecl *>(symbol->second);
    if (state.invalidDims.count(dim))
      return std::nullopt;
    result = dim->value;
    break;
  }
  case DimExpr::Kind::Add:
  case DimExpr::Kind::Sub:
  case DimExpr::Kind::Mul: {
    auto lhs = evaluateDimExpr(state, *expr.lhs, report);
    auto rhs = evaluateDimExpr(state, *expr.rhs, report);
    if (!lhs || !rhs)
      return std::nullopt;
    // Both sides are within 32 bits, so the exact result fits in 64.
    int64_t value = expr.kind == DimExpr::Kind::Add   ? *lhs + *rhs
                    : expr.kind == DimExpr::Kind::Sub ? *lhs - *rhs
                                                      : *lhs * *rhs;
    if (value > kMaxDimValue || value < -kMaxDimValue)
      return fail("dim expression '" + formatDimExpr(expr) + "' overflows 32 bits (" +
                  std::to_string(value) + ")");
    result = value;
    break;
  }
  }
  expr.value = *result;
  return result;
}

bool checkElementCount(SemaState &state, const std::vector<int64_t> &shape, SourceLocation loc,
                       const std::string &what, bool report) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    count *= dim; // each factor is below 2^31 and the running product is checked below
    if (count > kMaxDimValue) {
      if (report) {
        std::string text = "[";
        for (size_t i = 0; i < shape.size(); ++i)
          text += (i ? ", " : "") + std::to_string(shape[i]);
        state.diags.error(loc, "shape " + text + "] of " + what +
                                   " has too many elements: at most " +
                                   std::to_string(kMaxDimValue) + " are supported");
      }
      return false;
    }
  }
  return true;
}

void checkDeclarations(SemaState &state) {
  declareSymbols(state);
  checkDims(state);
  declareAxes(state);
  resolveTypes(state);
  attachInitialValues(state);
  attachGenerateClauses(state);
}

} // namespace rnnc::frontend
