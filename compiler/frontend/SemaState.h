// State shared by the sema phases (Sema.h): the symbol table, the reads graph and the
// recurrence components, plus the one entry point of each phase. Internal to the frontend.
#pragma once

#include "compiler/frontend/AST.h"
#include "compiler/frontend/Diagnostics.h"

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rnnc::frontend {

/// How a value is read, as an edge of the reads graph.
enum class ReadKind {
  SameStep, ///< x[t]
  Previous, ///< x[t-1]
  Next,     ///< x[t+1]
  Whole,    ///< a static value, x[last], x[first], or anything under sum_t: all steps
};

struct Read {
  ast::ValueDecl *target;
  ReadKind kind;
  const ast::RefExpr *ref; ///< The read in the source.
};

struct SemaState {
  SemaState(ast::Model &model, DiagnosticEngine &diags,
            const std::map<std::string, long long> &dimOverrides)
      : model(model), diags(diags), dimOverrides(dimOverrides) {}

  ast::Model &model;
  DiagnosticEngine &diags;
  const std::map<std::string, long long> &dimOverrides;

  /// Dims and values by name (the first declaration when a name is declared twice).
  std::unordered_map<std::string, ast::Decl *> symbols;
  /// Index into model.axes by axis name.
  std::unordered_map<std::string, size_t> axisIndex;
  /// Dims whose value is invalid: shapes using them are Unknown, without more errors.
  std::unordered_set<const ast::DimDecl *> invalidDims;

  /// What each definition reads (in its value and its initial values), and what the initial
  /// values of each input/target read.
  std::unordered_map<const ast::ValueDecl *, std::vector<Read>> reads;
  /// What each generate clause's value reads.
  std::unordered_map<const ast::GenerateClause *, std::vector<Read>> generateReads;
  /// The first read at t-1 / t+1 of each value, for "needs an initial value" errors.
  std::unordered_map<const ast::ValueDecl *, const ast::RefExpr *> firstPreviousRead;
  std::unordered_map<const ast::ValueDecl *, const ast::RefExpr *> firstNextRead;

  /// The definitions grouped by strongly connected component of the reads graph, in
  /// evaluation order (a recurrence is one component; every other definition its own).
  std::vector<std::vector<ast::Definition *>> components;

  ast::Axis *findAxis(const std::string &name) {
    auto it = axisIndex.find(name);
    return it == axisIndex.end() ? nullptr : &model.axes[it->second];
  }
};

/// Value of a dim expression, or nullopt after an error (reported when `report` is set).
std::optional<int64_t> evaluateDimExpr(SemaState &state, ast::DimExpr &expr, bool report);
/// Checks a shape's element count; reports and returns false when it exceeds 32 bits.
bool checkElementCount(SemaState &state, const std::vector<int64_t> &shape, ast::SourceLocation loc,
                       const std::string &what, bool report);

void checkDeclarations(SemaState &state);
void checkNamesAndTime(SemaState &state);
void checkRecurrences(SemaState &state);
void checkShapes(SemaState &state);

} // namespace rnnc::frontend
