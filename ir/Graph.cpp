// The graph IR's classes (Graph.h) and the op table's derived facts (Ops.def, Attributes.def).
#include "ir/Graph.h"

#include <algorithm>
#include <cassert>

namespace rnnc::ir {

namespace {
using enum OpFamily;
using enum OpTrait;
const OpInfo opTable[] = {
#define RNNC_OP(Enum, mnemonic, arity, family, traits, summary)                                    \
  {OpKind::Enum, mnemonic, arity, family, traits, summary},
#include "ir/Ops.def"
};
} // namespace

const OpInfo &opInfo(OpKind kind) { return opTable[static_cast<size_t>(kind)]; }

const OpInfo *lookupOp(const std::string &mnemonic) {
  for (const OpInfo &info : opTable)
    if (mnemonic == info.mnemonic)
      return &info;
  return nullptr;
}

bool hasTrait(OpKind kind, OpTrait trait) {
  return (static_cast<unsigned>(opInfo(kind).traits) & static_cast<unsigned>(trait)) != 0;
}

bool isWholeSequenceOp(OpKind kind) { return opInfo(kind).family == OpFamily::Time; }

bool isElementwiseOp(OpKind kind) { return opInfo(kind).family == OpFamily::Elementwise; }

std::string SourceLocation::str() const {
  if (!known())
    return "<unknown>";
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Value *Op::addResult(Type type) {
  results_.push_back(std::make_unique<Value>(std::move(type), this, nullptr,
                                             static_cast<unsigned>(results_.size())));
  return results_.back().get();
}

const std::string &readStringAttr(const Attributes &attrs, const char *key) {
  static const std::string none;
  auto it = attrs.find(key);
  const auto *text = it == attrs.end() ? nullptr : std::get_if<std::string>(&it->second);
  return text ? *text : none;
}

int64_t readIntAttr(const Attributes &attrs, const char *key) {
  auto it = attrs.find(key);
  const auto *integer = it == attrs.end() ? nullptr : std::get_if<int64_t>(&it->second);
  return integer ? *integer : 0;
}

double readNumberAttr(const Attributes &attrs, const char *key) {
  auto it = attrs.find(key);
  if (it == attrs.end())
    return 0;
  if (const auto *integer = std::get_if<int64_t>(&it->second))
    return static_cast<double>(*integer);
  const auto *real = std::get_if<double>(&it->second);
  return real ? *real : 0;
}

Block &Op::createBody() {
  body_ = std::make_unique<Block>(this);
  return *body_;
}

std::vector<Value *> Op::carryInits() const {
  return {operands_.begin(), operands_.begin() + numCarries()};
}

std::vector<Value *> Op::stepSequences() const {
  auto begin = operands_.begin() + numCarries();
  return {begin, begin + numSteps()};
}

std::vector<Value *> Op::staticOperands() const {
  return {operands_.begin() + numCarries() + numSteps(), operands_.end()};
}

Value *Block::addArgument(Type type) {
  arguments_.push_back(std::make_unique<Value>(std::move(type), nullptr, this,
                                               static_cast<unsigned>(arguments_.size())));
  return arguments_.back().get();
}

Op *Block::terminator() const {
  if (ops_.empty() || ops_.back()->kind() != OpKind::Yield)
    return nullptr;
  return ops_.back().get();
}

Op *Block::append(std::unique_ptr<Op> op) { return insert(ops_.size(), std::move(op)); }

Op *Block::insert(size_t index, std::unique_ptr<Op> op) {
  op->parent_ = this;
  auto position = ops_.insert(ops_.begin() + static_cast<std::ptrdiff_t>(index), std::move(op));
  return position->get();
}

Expected<size_t> Block::indexOf(const Op *op) const {
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i].get() == op)
      return i;
  return Error::internal("Block::indexOf: " + (op ? describeOp(*op) : std::string("null")) +
                         " is not in this block");
}

void Block::erase(Op *op) {
  std::erase_if(ops_, [op](const std::unique_ptr<Op> &candidate) { return candidate.get() == op; });
}

void Block::eraseIf(const std::function<bool(const Op &)> &dead) {
  std::erase_if(ops_, [&](const std::unique_ptr<Op> &op) { return dead(*op); });
}

void Block::replaceAllUsesWith(Value *from, Value *to) {
  walk([&](Op &op) {
    for (size_t i = 0; i < op.numOperands(); ++i)
      if (op.operand(i) == from)
        op.setOperand(i, to);
  });
}

void Block::walk(const std::function<void(Op &)> &visit) const {
  for (const auto &op : ops_) {
    visit(*op);
    if (op->body())
      op->body()->walk(visit);
  }
}

void cloneOpsInto(const Block &source, Block &destination, ValueMapping &mapping) {
  for (const auto &op : source.ops()) {
    std::vector<Value *> operands;
    operands.reserve(op->numOperands());
    for (Value *operand : op->operands()) {
      auto mapped = mapping.find(operand);
      assert(mapped != mapping.end() && "cloneOpsInto: operand defined outside the mapping");
      operands.push_back(mapped->second);
    }
    auto copy = std::make_unique<Op>(op->kind(), std::move(operands), op->attrs(), op->location());
    for (size_t i = 0; i < op->numResults(); ++i) {
      Value *result = copy->addResult(op->result(i)->type());
      result->setNameHint(op->result(i)->nameHint());
      mapping[op->result(i)] = result;
    }
    if (const Block *body = op->body()) {
      Block &newBody = copy->createBody();
      for (const auto &argument : body->arguments()) {
        Value *newArgument = newBody.addArgument(argument->type());
        newArgument->setNameHint(argument->nameHint());
        mapping[argument.get()] = newArgument;
      }
      cloneOpsInto(*body, newBody, mapping);
    }
    destination.append(std::move(copy));
  }
}

std::vector<Op *> Graph::opsOfKind(OpKind kind) const {
  std::vector<Op *> found;
  for (const auto &op : body_.ops())
    if (op->kind() == kind)
      found.push_back(op.get());
  return found;
}

Op *Graph::findOutput(const std::string &name) const {
  for (Op *op : opsOfKind(OpKind::Output))
    if (op->nameAttr() == name)
      return op;
  return nullptr;
}

std::unordered_set<const Op *> primeInputs(const Graph &graph) {
  std::unordered_set<const Op *> primes;
  graph.body().walk([&](Op &op) {
    if (op.kind() != OpKind::Feed)
      return;
    const Value *given = op.operand(0);
    if (given->isBlockArgument()) {
      const Op *scan = given->ownerBlock()->parentOp();
      size_t index = given->index();
      if (!scan || index < scan->numCarries() || index >= scan->numCarries() + scan->numSteps())
        return;
      given = scan->operand(index);
    }
    if (given->definingOp() && given->definingOp()->kind() == OpKind::Input &&
        given->type().isSequence())
      primes.insert(given->definingOp());
  });
  return primes;
}

std::set<std::string> collectTimeAxes(const Graph &graph) {
  std::set<std::string> axes;
  auto add = [&](const std::string &axis) {
    auto segments = parseSegmentAxis(axis);
    axes.insert(segments ? segments->base : axis);
  };
  graph.body().walk([&](Op &op) {
    for (size_t i = 0; i < op.numResults(); ++i)
      if (op.result(i)->type().isSequence())
        add(op.result(i)->type().axis);
    if (op.kind() == OpKind::Scan)
      add(op.axisAttr());
  });
  return axes;
}

std::string describeOp(const Op &op) {
  std::string text = std::string("'") + op.mnemonic() + "'";
  if (op.location().known())
    text += " at " + op.location().str();
  return text;
}

Graph &Module::addGraph(std::string name) {
  graphs_.push_back(std::make_unique<Graph>(std::move(name)));
  return *graphs_.back();
}

Graph *Module::findGraph(const std::string &name) const {
  for (const auto &graph : graphs_)
    if (graph->name() == name)
      return graph.get();
  return nullptr;
}

void Module::removeGraph(const std::string &name) {
  std::erase_if(graphs_, [&](const std::unique_ptr<Graph> &graph) { return graph->name() == name; });
}

} // namespace rnnc::ir
