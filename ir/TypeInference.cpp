#include "ir/TypeInference.h"

namespace rnnc::ir {

namespace {

std::string typeList(const std::vector<Type> &types) {
  std::string text;
  for (size_t i = 0; i < types.size(); ++i)
    text += (i ? ", " : "") + types[i].str();
  return text;
}

Error mismatch(OpKind kind, const std::vector<Type> &operands, const std::string &rule) {
  return Error::user(std::string("'") + opInfo(kind).mnemonic + "' " + rule + " (operands: " +
                     typeList(operands) + ")");
}

/// The common time axis of the operands ("" when all are static), or an error.
Expected<std::string> commonAxis(OpKind kind, const std::vector<Type> &operands) {
  std::string axis;
  for (const Type &type : operands) {
    if (type.axis.empty())
      continue;
    if (!axis.empty() && axis != type.axis)
      return mismatch(kind, operands, "mixes time axes '" + axis + "' and '" + type.axis + "'");
    axis = type.axis;
  }
  return axis;
}

/// The per-step typing rule, ignoring time axes; `shown` are the operand types for messages.
Expected<Type> inferStepType(OpKind kind, const std::vector<Type> &operands,
                             const Attributes &attrs, const std::vector<Type> &shown) {
  auto requireReal = [&](const Type &type) -> bool { return type.isReal(); };
  switch (kind) {
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::Max:
  case OpKind::Min: {
    const Type &a = operands[0], &b = operands[1];
    if (!requireReal(a) || !requireReal(b))
      return mismatch(kind, shown, "needs real operands");
    if (a.shape == b.shape || b.isScalar())
      return Type::real(a.shape);
    if (a.isScalar())
      return Type::real(b.shape);
    return mismatch(kind, shown, "needs equal shapes or a scalar");
  }
  case OpKind::Neg:
  case OpKind::Tanh:
  case OpKind::Sigmoid:
  case OpKind::Relu:
  case OpKind::Step:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Abs:
  case OpKind::Sqrt:
    if (!requireReal(operands[0]))
      return mismatch(kind, shown, "needs a real operand");
    return Type::real(operands[0].shape);
  case OpKind::MatMul: {
    const Type &a = operands[0], &b = operands[1];
    if (!a.isReal() || !b.isReal() || a.rank() != 2 || b.rank() < 1 || b.rank() > 2 ||
        a.shape[1] != b.shape[0])
      return mismatch(kind, shown, "needs [m,k] x [k] or [m,k] x [k,n]");
    if (b.rank() == 1)
      return Type::real({a.shape[0]});
    return Type::real({a.shape[0], b.shape[1]});
  }
  case OpKind::Transpose:
    if (!operands[0].isReal() || operands[0].rank() != 2)
      return mismatch(kind, shown, "needs a matrix");
    return Type::real({operands[0].shape[1], operands[0].shape[0]});
  case OpKind::Outer:
    if (!operands[0].isReal() || !operands[1].isReal() || operands[0].rank() != 1 ||
        operands[1].rank() != 1)
      return mismatch(kind, shown, "needs two vectors");
    return Type::real({operands[0].shape[0], operands[1].shape[0]});
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
    if (!operands[0].isReal() || operands[0].rank() != 1)
      return mismatch(kind, shown, "needs a vector");
    return Type::real(operands[0].shape);
  case OpKind::OneHot:
    if (!operands[0].isToken())
      return mismatch(kind, shown, "needs a token");
    return Type::real({operands[0].vocab});
  case OpKind::Nll:
    if (!operands[0].isReal() || operands[0].rank() != 1 || !operands[1].isToken() ||
        operands[1].vocab != operands[0].shape[0])
      return mismatch(kind, shown, "needs f32[V] and tok<V>");
    return Type::scalar();
  case OpKind::SqErr:
    if (!operands[0].isReal() || !operands[1].isReal() || operands[0].shape != operands[1].shape)
      return mismatch(kind, shown, "needs two real operands of equal shape");
    return Type::scalar();
  case OpKind::Sum:
  case OpKind::Mean:
    if (!operands[0].isReal())
      return mismatch(kind, shown, "needs a real operand");
    return Type::scalar();
  case OpKind::Concat: {
    if (operands.empty())
      return mismatch(kind, shown, "needs at least one operand");
    int64_t length = 0;
    for (const Type &type : operands) {
      if (!type.isReal() || type.rank() != 1)
        return mismatch(kind, shown, "needs vectors");
      length += type.shape[0];
    }
    return Type::real({length});
  }
  case OpKind::Slice: {
    int64_t start = startAttr(attrs), length = lenAttr(attrs);
    if (!operands[0].isReal() || operands[0].rank() != 1)
      return mismatch(kind, shown, "needs a vector");
    if (start < 0 || length <= 0 || start + length > operands[0].shape[0])
      return mismatch(kind, shown,
                      "range [" + std::to_string(start) + ", " + std::to_string(start + length) +
                          ") is outside the vector");
    return Type::real({length});
  }
  case OpKind::Pad: {
    int64_t start = startAttr(attrs), size = sizeAttr(attrs);
    if (!operands[0].isReal() || operands[0].rank() != 1)
      return mismatch(kind, shown, "needs a vector");
    if (start < 0 || start + operands[0].shape[0] > size)
      return mismatch(kind, shown, "does not fit in size " + std::to_string(size));
    return Type::real({size});
  }
  case OpKind::Argmax:
  case OpKind::Sample:
    if (!operands[0].isReal() || operands[0].rank() != 1)
      return mismatch(kind, shown, "needs a vector");
    return Type::token(operands[0].shape[0]);
  case OpKind::Feed:
    if (operands[0] != operands[1])
      return mismatch(kind, shown, "needs two operands of one type");
    return operands[0];
  default:
    return Error::internal(std::string("no per-step typing rule for '") + opInfo(kind).mnemonic +
                           "'");
  }
}

} // namespace

bool hasExplicitResultType(OpKind kind) {
  switch (kind) {
  case OpKind::Param:
  case OpKind::Input:
  case OpKind::Target:
  case OpKind::Constant:
  case OpKind::TokenConstant:
  case OpKind::Broadcast:
  case OpKind::Scan:
    return true;
  default:
    return false;
  }
}

bool hasNoResult(OpKind kind) { return hasTrait(kind, OpTrait::NoResult); }

Expected<Type> inferResultType(OpKind kind, const std::vector<Type> &operands,
                               const Attributes &attrs) {
  const OpInfo &info = opInfo(kind);
  if (info.arity >= 0 && operands.size() != static_cast<size_t>(info.arity))
    return Error::user(std::string("'") + info.mnemonic + "' takes " +
                       std::to_string(info.arity) + " operand(s), got " +
                       std::to_string(operands.size()));
  switch (kind) {
  case OpKind::Shift: {
    const Type &sequence = operands[0], &init = operands[1];
    if (!sequence.isSequence() || init.isSequence() || sequence.stepType() != init)
      return mismatch(kind, operands, "needs a sequence and a static initial value of its step type");
    std::string direction = directionAttr(attrs);
    if (direction != "forward" && direction != "reverse")
      return mismatch(kind, operands, "needs direction = \"forward\" or \"reverse\"");
    return sequence;
  }
  case OpKind::Last:
  case OpKind::First:
    if (!operands[0].isSequence())
      return mismatch(kind, operands, "needs a sequence");
    return operands[0].stepType();
  case OpKind::AtStep:
    if (!operands[0].isSequence() || indexAttr(attrs) < 1)
      return mismatch(kind, operands, "needs a sequence and an index >= 1");
    return operands[0].stepType();
  case OpKind::Stack: {
    std::string axis = axisAttr(attrs);
    if (operands.empty() || axis.empty())
      return mismatch(kind, operands, "needs at least one operand and an axis");
    for (const Type &type : operands)
      if (type.isSequence() || type != operands[0])
        return mismatch(kind, operands, "needs static operands of one type");
    return operands[0].sequenceOver(axis);
  }
  case OpKind::Segment: {
    int64_t factor = factorAttr(attrs), phase = phaseAttr(attrs);
    std::string direction = directionAttr(attrs);
    if (!operands[0].isSequence() || parseSegmentAxis(operands[0].axis))
      return mismatch(kind, operands, "needs a sequence over a time axis (not a segment axis)");
    if (factor < 1 || phase < 1 || phase > factor ||
        (direction != "forward" && direction != "reverse"))
      return mismatch(kind, operands,
                      "needs factor >= 1, 1 <= phase <= factor and a direction (factor " +
                          std::to_string(factor) + ", phase " + std::to_string(phase) + ")");
    return operands[0].sequenceOver(segmentAxisName(operands[0].axis, factor));
  }
  case OpKind::Unsegment: {
    int64_t factor = factorAttr(attrs);
    std::string direction = directionAttr(attrs);
    auto segments = operands.empty() ? std::nullopt : parseSegmentAxis(operands[0].axis);
    if (!segments || segments->factor != factor || operands.size() != static_cast<size_t>(factor) ||
        (direction != "forward" && direction != "reverse"))
      return mismatch(kind, operands,
                      "needs {factor} sequences over a segment axis of that factor and a "
                      "direction");
    for (const Type &type : operands)
      if (type != operands[0])
        return mismatch(kind, operands, "needs operands of one type");
    return operands[0].sequenceOver(segments->base);
  }
  case OpKind::SumTime:
    if (!operands[0].isSequence() || !operands[0].isReal())
      return mismatch(kind, operands, "needs a real sequence");
    return operands[0].stepType();
  case OpKind::SumOuter: {
    const Type &a = operands[0], &b = operands[1];
    if (!a.isSequence() || a.axis != b.axis || !a.isReal() || !b.isReal() || a.rank() != 1 ||
        b.rank() != 1)
      return mismatch(kind, operands, "needs two real vector sequences over one axis");
    return Type::real({a.shape[0], b.shape[0]});
  }
  case OpKind::Repeat:
  case OpKind::AtLast:
  case OpKind::AtFirst: {
    std::string axis = axisAttr(attrs);
    if (operands[0].isSequence() || axis.empty())
      return mismatch(kind, operands, "needs a static operand and an axis");
    if (kind != OpKind::Repeat && !operands[0].isReal())
      return mismatch(kind, operands, "needs a real operand");
    return operands[0].sequenceOver(axis);
  }
  default:
    break;
  }
  if (hasExplicitResultType(kind) || hasNoResult(kind))
    return Error::internal(std::string("'") + info.mnemonic + "' has no inferred result type");

  auto axis = commonAxis(kind, operands);
  if (!axis)
    return axis.takeError();
  std::vector<Type> stepOperands;
  for (const Type &type : operands)
    stepOperands.push_back(type.stepType());
  auto step = inferStepType(kind, stepOperands, attrs, operands);
  if (!step)
    return step.takeError();
  return step->sequenceOver(*axis);
}

} // namespace rnnc::ir
