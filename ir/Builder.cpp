#include "ir/Builder.h"

#include "ir/Verifier.h"

namespace rnnc::ir {

Op *Builder::append(OpKind kind, std::vector<Value *> operands, Attributes attrs) {
  return block_->append(std::make_unique<Op>(kind, std::move(operands), std::move(attrs),
                                             location_));
}

void Builder::recordError(const Error &error) {
  if (!firstError_)
    firstError_ = Error{error.kind, location_.str() + ": " + error.message};
}

Value *Builder::create(OpKind kind, std::vector<Value *> operands, Attributes attrs) {
  std::vector<Type> operandTypes;
  for (Value *operand : operands)
    operandTypes.push_back(operand->type());
  // The typing rules read attributes by the schema; an op without the attributes its kind
  // needs is a bug in the code that builds it.
  std::string problem = attributeProblem(kind, attrs);
  Expected<Type> type = problem.empty() ? inferResultType(kind, operandTypes, attrs)
                                        : Expected<Type>(Error::internal(problem));
  Type resultType = type ? *type : (operandTypes.empty() ? Type::scalar() : operandTypes[0]);
  if (!type)
    recordError(type.error());
  Op *op = append(kind, std::move(operands), std::move(attrs));
  return op->addResult(std::move(resultType));
}

Value *Builder::createTyped(OpKind kind, std::vector<Value *> operands, Type type,
                            Attributes attrs) {
  Op *op = append(kind, std::move(operands), std::move(attrs));
  return op->addResult(std::move(type));
}

Op *Builder::createSink(OpKind kind, std::vector<Value *> operands, Attributes attrs) {
  return append(kind, std::move(operands), std::move(attrs));
}

Value *Builder::param(const std::string &name, Type type, const std::string &init) {
  Value *value = createTyped(OpKind::Param, {}, std::move(type), {{"name", name}, {"init", init}});
  value->setNameHint(name);
  return value;
}

Value *Builder::input(const std::string &name, Type type) {
  Value *value = createTyped(OpKind::Input, {}, std::move(type), {{"name", name}});
  value->setNameHint(name);
  return value;
}

Value *Builder::target(const std::string &name, Type type) {
  Value *value = createTyped(OpKind::Target, {}, std::move(type), {{"name", name}});
  value->setNameHint(name);
  return value;
}

Value *Builder::constant(double value, Type type) {
  return createTyped(OpKind::Constant, {}, std::move(type), {{"value", value}});
}

Value *Builder::tokenConstant(int64_t value, int64_t vocab) {
  return createTyped(OpKind::TokenConstant, {}, Type::token(vocab), {{"value", value}});
}

Op *Builder::output(const std::string &name, Value *value) {
  return createSink(OpKind::Output, {value}, {{"name", name}});
}

Op *Builder::beginScan(const std::string &axis, bool reverse,
                       const std::vector<Value *> &carryInits,
                       const std::vector<Value *> &stepSequences,
                       const std::vector<Value *> &statics) {
  std::vector<Value *> operands = carryInits;
  operands.insert(operands.end(), stepSequences.begin(), stepSequences.end());
  operands.insert(operands.end(), statics.begin(), statics.end());
  Op *scan = append(OpKind::Scan, std::move(operands),
                    {{"axis", axis},
                     {"direction", std::string(reverse ? "reverse" : "forward")},
                     {"carries", static_cast<int64_t>(carryInits.size())},
                     {"steps", static_cast<int64_t>(stepSequences.size())}});
  Block &body = scan->createBody();
  for (Value *value : carryInits)
    body.addArgument(value->type())->setNameHint(value->nameHint());
  for (Value *value : stepSequences)
    body.addArgument(value->type().stepType())->setNameHint(value->nameHint());
  for (Value *value : statics)
    body.addArgument(value->type())->setNameHint(value->nameHint());
  return scan;
}

void Builder::finishScan(Op *scan, const std::vector<Value *> &nextCarries,
                         const std::vector<Value *> &stepOutputs) {
  std::vector<Value *> yielded = nextCarries;
  yielded.insert(yielded.end(), stepOutputs.begin(), stepOutputs.end());
  scan->body()->append(std::make_unique<Op>(
      OpKind::Yield, std::move(yielded),
      Attributes{{"carries", static_cast<int64_t>(nextCarries.size())}}, location_));
  const std::string &axis = scan->axisAttr();
  for (Value *output : stepOutputs)
    scan->addResult(output->type().sequenceOver(axis))->setNameHint(output->nameHint());
}

} // namespace rnnc::ir
