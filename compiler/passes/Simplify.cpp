#include "compiler/passes/Simplify.h"

#include "compiler/passes/DCE.h"
#include "ir/TypeInference.h"

namespace rnnc::passes {

using ir::Block;
using ir::Op;
using ir::OpKind;
using ir::Value;

namespace {

/// The op defining `value` if it is of `kind`, else nullptr.
Op *definedBy(Value *value, OpKind kind) {
  Op *op = value ? value->definingOp() : nullptr;
  return op && op->kind() == kind ? op : nullptr;
}

/// True when every element of `value` is `constant` (a constant, or its repeat or broadcast).
bool isConstant(Value *value, double constant) {
  Op *op = value->definingOp();
  if (!op)
    return false;
  if (op->kind() == OpKind::Constant)
    return op->valueAttr() == constant;
  if (op->kind() == OpKind::Repeat || op->kind() == OpKind::Broadcast)
    return isConstant(op->operand(0), constant);
  return false;
}

/// For a binary op, the operand that is not `other` (nullptr when neither is).
Value *otherOperand(Op *op, Value *other) {
  if (op->operand(0) == other)
    return op->operand(1);
  if (op->operand(1) == other)
    return op->operand(0);
  return nullptr;
}

/// Rewrites one op at a time; new ops are inserted before the op being rewritten.
class Simplifier {
public:
  explicit Simplifier(Block &block) : block_(block) {}

  size_t run() {
    size_t rewrites = 0;
    for (index_ = 0; index_ < block_.ops().size(); ++index_) {
      Op *op = block_.ops()[index_].get();
      if (op->body())
        rewrites += Simplifier(*op->body()).run();
      current_ = op;
      Value *replacement = rewrite(*op); // may insert ops before it, moving index_ on
      if (!replacement || op->numResults() != 1 || replacement == op->result())
        continue;
      if (replacement->nameHint().empty())
        replacement->setNameHint(op->result()->nameHint());
      block_.replaceAllUsesWith(op->result(), replacement);
      ++rewrites;
    }
    return rewrites;
  }

private:
  Value *emit(OpKind kind, std::vector<Value *> operands) {
    std::vector<ir::Type> types;
    for (Value *operand : operands)
      types.push_back(operand->type());
    auto type = ir::inferResultType(kind, types, {});
    if (!type)
      return nullptr;
    auto op =
        std::make_unique<Op>(kind, std::move(operands), ir::Attributes{}, current_->location());
    Value *result = op->addResult(*type);
    block_.insert(index_++, std::move(op));
    return result;
  }

  /// `candidate` when it can stand for the result of `op` (same type), else nullptr.
  static Value *ifSameType(const Op &op, Value *candidate) {
    return candidate && candidate->type() == op.result()->type() ? candidate : nullptr;
  }

  Value *rewrite(Op &op) {
    switch (op.kind()) {
    case OpKind::Mul:
      if (isConstant(op.operand(1), 1.0))
        return ifSameType(op, op.operand(0));
      if (isConstant(op.operand(0), 1.0))
        return ifSameType(op, op.operand(1));
      return softmaxCrossEntropy(op);
    case OpKind::Add:
      if (isConstant(op.operand(1), 0.0))
        return ifSameType(op, op.operand(0));
      if (isConstant(op.operand(0), 0.0))
        return ifSameType(op, op.operand(1));
      if (Op *negated = definedBy(op.operand(1), OpKind::Neg))
        return emit(OpKind::Sub, {op.operand(0), negated->operand(0)});
      if (Op *negated = definedBy(op.operand(0), OpKind::Neg))
        return emit(OpKind::Sub, {op.operand(1), negated->operand(0)});
      return nullptr;
    case OpKind::Sub:
      if (isConstant(op.operand(1), 0.0))
        return ifSameType(op, op.operand(0));
      if (Op *negated = definedBy(op.operand(1), OpKind::Neg))
        return emit(OpKind::Add, {op.operand(0), negated->operand(0)});
      return nullptr;
    case OpKind::Neg:
    case OpKind::Transpose:
      if (Op *inner = definedBy(op.operand(0), op.kind()))
        return inner->operand(0);
      return nullptr;
    default:
      return nullptr;
    }
  }

  // softmax's rule applied to nll's: with p = softmax(o) and n = nll(p, y),
  //   G  = onehot(y) · k,   k = −(g · exp(n))  (or −exp(n) once g = 1 is simplified away)
  //   dx = p · (G − sum(G · p))
  // and since exp(n) = 1 / p[y], dx = g (p − onehot(y)).
  Value *softmaxCrossEntropy(Op &op) {
    Op *softmax = nullptr;
    Op *difference = nullptr;
    for (int side = 0; side < 2 && !difference; ++side) {
      softmax = definedBy(op.operand(side), OpKind::Softmax);
      difference = softmax ? definedBy(op.operand(1 - side), OpKind::Sub) : nullptr;
    }
    if (!difference)
      return nullptr;
    Value *p = softmax->result();
    Value *G = difference->operand(0);
    Op *reduction = definedBy(difference->operand(1), OpKind::Sum);
    Op *weighted = reduction ? definedBy(reduction->operand(0), OpKind::Mul) : nullptr;
    if (!weighted || otherOperand(weighted, G) != p)
      return nullptr;
    Op *scaled = definedBy(G, OpKind::Mul);
    if (!scaled)
      return nullptr;
    Op *onehot = nullptr;
    Op *negation = nullptr;
    for (int side = 0; side < 2 && !negation; ++side) {
      onehot = definedBy(scaled->operand(side), OpKind::OneHot);
      negation = onehot ? definedBy(scaled->operand(1 - side), OpKind::Neg) : nullptr;
    }
    if (!negation)
      return nullptr;
    Value *scale = nullptr; // g, or nullptr for 1
    Op *exponential = definedBy(negation->operand(0), OpKind::Exp);
    if (!exponential) {
      Op *product = definedBy(negation->operand(0), OpKind::Mul);
      if (!product)
        return nullptr;
      for (int side = 0; side < 2 && !exponential; ++side) {
        exponential = definedBy(product->operand(side), OpKind::Exp);
        scale = product->operand(1 - side);
      }
      if (!exponential)
        return nullptr;
    }
    Op *nll = definedBy(exponential->operand(0), OpKind::Nll);
    if (!nll || nll->operand(0) != p || nll->operand(1) != onehot->operand(0))
      return nullptr;
    Value *gradient = emit(OpKind::Sub, {p, onehot->result()});
    if (scale && gradient)
      gradient = emit(OpKind::Mul, {scale, gradient});
    return ifSameType(op, gradient);
  }

  Block &block_;
  Op *current_ = nullptr;
  size_t index_ = 0; ///< current_'s position in block_.
};

} // namespace

size_t simplify(ir::Module &module) {
  size_t total = 0;
  for (const auto &graph : module.graphs())
    for (size_t rewrites = 1; rewrites;) {
      // Replaced ops are removed before the next round, so none is rewritten twice.
      rewrites = Simplifier(graph->body()).run();
      removeDeadOps(graph->body());
      total += rewrites;
    }
  return total;
}

} // namespace rnnc::passes
