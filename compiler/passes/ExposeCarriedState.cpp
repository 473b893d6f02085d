#include "compiler/passes/ExposeCarriedState.h"

#include "ir/Builder.h"

namespace rnnc::passes {

Expected<std::vector<CarriedState>> exposeCarriedState(ir::Graph &graph) {
  ir::Block &body = graph.body();
  std::vector<ir::Op *> scans;
  for (const auto &op : body.ops())
    if (op->kind() == ir::OpKind::Scan)
      scans.push_back(op.get());
  std::vector<CarriedState> states;
  ir::Builder builder(body);
  for (ir::Op *scan : scans) {
    size_t carries = size_t(scan->carriesAttr());
    if (carries == 0)
      continue;
    ir::Op *yield = scan->body()->terminator();
    builder.setLocation(scan->location());
    for (size_t k = 0; k < carries; ++k) {
      // The per-step output that yields the same value as carry k: the recurrence itself.
      ir::Value *sequence = nullptr;
      for (size_t j = carries; j < yield->numOperands() && !sequence; ++j)
        if (yield->operand(j) == yield->operand(k))
          sequence = scan->result(j - carries);
      std::string name = sequence ? sequence->nameHint() : std::string();
      if (!sequence || name.empty())
        return Error::user(scan->location().str() +
                           ": a carried state of this recurrence is not one of its per-step "
                           "values, so --stateful cannot carry it across windows");
      if (scan->directionAttr() != "forward" || scan->stepsAttr() != 1)
        return Error::user(scan->location().str() + ": recurrence '" + name +
                           "' is not a forward recurrence over the previous step (" + name +
                           "[t-1]), so --stateful cannot carry it across windows");
      CarriedState state{"state." + name, "state." + name + ".final", scan->operand(k)->type()};
      auto input =
          std::make_unique<ir::Op>(ir::OpKind::Input, std::vector<ir::Value *>{},
                                   ir::Attributes{{"name", state.input}}, scan->location());
      ir::Value *initial = input->addResult(state.type);
      initial->setNameHint(state.input);
      body.insert(0, std::move(input));
      scan->setOperand(k, initial);
      builder.output(state.output, builder.create(ir::OpKind::Last, {sequence}));
      states.push_back(state);
    }
  }
  if (Status status = builder.status(); !status)
    return status.takeError();
  if (states.empty())
    return Error::user("graph '" + graph.name() +
                       "' has no recurrence whose state --stateful could carry");
  return states;
}

} // namespace rnnc::passes
