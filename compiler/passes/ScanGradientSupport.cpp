#include "compiler/passes/ScanGradientSupport.h"

namespace rnnc::passes {

using ir::OpKind;
using ir::Type;
using ir::Value;

Expected<std::vector<Value *>> rejectNestedScan(ir::Op &nested, const std::vector<Value *> &,
                                                const std::vector<bool> &, ir::Builder &) {
  return Error::user(nested.location().str() +
                     ": error: no gradient for a scan inside a scan body");
}

Value *cutCarriedGradients(ir::Builder &builder, std::vector<Value *> &carried, Value *stepsRun,
                           Value *increment, int64_t truncate) {
  auto scalar = [&](double value) { return builder.constant(value, Type::scalar()); };
  Value *count = builder.create(OpKind::Add, {stepsRun, increment});
  Value *reset = builder.create(
      OpKind::Step,
      {builder.create(OpKind::Sub, {count, scalar(static_cast<double>(truncate) - 0.5)})});
  Value *keep = builder.create(OpKind::Sub, {scalar(1.0), reset});
  for (Value *&gradient : carried)
    if (gradient)
      gradient = builder.create(OpKind::Mul, {gradient, keep});
  return builder.create(OpKind::Mul, {count, keep});
}

} // namespace rnnc::passes
