#include "compiler/frontend/Sema.h"

#include "compiler/frontend/SemaState.h"

namespace rnnc::frontend {

void checkModel(ast::Model &model, const std::map<std::string, long long> &dimOverrides,
                DiagnosticEngine &diags) {
  SemaState state(model, diags, dimOverrides);
  // Each phase needs the results of the previous ones: declarations give the symbols, time
  // checking gives the reads graph, the recurrence analysis gives the order in which shapes
  // can be inferred.
  checkDeclarations(state);
  checkNamesAndTime(state);
  checkRecurrences(state);
  checkShapes(state);
}

} // namespace rnnc::frontend
