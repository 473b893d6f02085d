#include "compiler/passes/HoistTimeParallel.h"

#include "compiler/passes/DCE.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace rnnc::passes {

using ir::Block;
using ir::Op;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

/// What a value of a scan body depends on. Ordered: an op depends on the most of its operands.
enum class Dependence { Constant, Static, PerStep, State };

using Dependences = std::unordered_map<const Value *, Dependence>;
using Users = std::unordered_map<const Value *, std::vector<const Op *>>;

bool isConstantLeaf(const Op &op) {
  return op.kind() == OpKind::Constant || op.kind() == OpKind::TokenConstant;
}

/// Ops that stay in their scan whatever they read: `feed` depends on the step number and
/// `sample` on the order of the draws.
bool isPinned(const Op &op) { return op.kind() == OpKind::Feed || op.kind() == OpKind::Sample; }

/// Inserts an op with one result of `type` at `index` of `block`.
Value *insertOp(Block &block, size_t index, OpKind kind, std::vector<Value *> operands,
                ir::Attributes attrs, const ir::SourceLocation &location, Type type,
                const std::string &nameHint = {}) {
  auto op = std::make_unique<Op>(kind, std::move(operands), std::move(attrs), location);
  Value *result = op->addResult(std::move(type));
  result->setNameHint(nameHint);
  block.insert(index, std::move(op));
  return result;
}

Users findUsers(const Block &block) {
  Users users;
  for (const auto &op : block.ops())
    for (const Value *operand : op->operands())
      users[operand].push_back(op.get());
  return users;
}

/// The dependence of every value of the scan's body, when the carries marked in `isState` are
/// the state and the others are step sequences (shifted next values).
Dependences classify(const Op &scan, const std::vector<bool> &isState) {
  const Block &body = *scan.body();
  size_t carries = scan.numCarries(), steps = scan.numSteps();
  Dependences dependences;
  for (size_t i = 0; i < body.numArguments(); ++i) {
    bool isStep = i < carries ? !isState[i] : i < carries + steps;
    bool isStateArgument = i < carries && isState[i];
    dependences[body.argument(i)] = isStateArgument ? Dependence::State
                                    : isStep        ? Dependence::PerStep
                                                    : Dependence::Static;
  }
  for (const auto &op : body.ops()) {
    if (op->numResults() == 0) // the yield
      continue;
    Dependence dependence = isConstantLeaf(*op) ? Dependence::Constant : Dependence::Static;
    for (const Value *operand : op->operands())
      dependence = std::max(dependence, dependences.at(operand));
    if (isPinned(*op))
      dependence = Dependence::State;
    dependences[op->result()] = dependence;
  }
  return dependences;
}

/// Which carries are state: those whose next value depends on the state. Starts from all of them
/// and drops carries whose next value is computed without the state, until none drops (a carry
/// that feeds itself, directly or through other carries, stays).
std::vector<bool> findStateCarries(const Op &scan) {
  std::vector<bool> isState(scan.numCarries(), true);
  const Op &yield = *scan.body()->terminator();
  for (bool changed = true; changed;) {
    changed = false;
    Dependences dependences = classify(scan, isState);
    for (size_t i = 0; i < isState.size(); ++i)
      if (isState[i] && dependences.at(yield.operand(i)) != Dependence::State)
        isState[i] = false, changed = true;
  }
  return isState;
}

/// Regroups state-dependent sums so that their state-independent terms form one subexpression
/// (see the header, step 2). A sum is a tree of `add`s of one type whose inner adds have no other
/// use; terms of another type (a broadcast scalar) leave the sum as it is. Returns the number of
/// sums regrouped; the replaced adds are left unused.
size_t regroupSums(Block &body, const Dependences &dependences) {
  Users users = findUsers(body);
  auto isInnerAdd = [&](const Op *op) {
    if (!op || op->kind() != OpKind::Add)
      return false;
    const std::vector<const Op *> &uses = users[op->result()];
    return uses.size() == 1 && uses[0]->kind() == OpKind::Add &&
           uses[0]->result()->type() == op->result()->type();
  };
  std::vector<Op *> ops;
  for (const auto &op : body.ops())
    ops.push_back(op.get());
  size_t regrouped = 0, inserted = 0;
  for (size_t original = 0; original < ops.size(); ++original) {
    Op *root = ops[original];
    if (root->kind() != OpKind::Add || isInnerAdd(root) ||
        dependences.at(root->result()) != Dependence::State)
      continue;
    std::vector<Value *> terms;
    std::vector<Value *> pending{root->operand(1), root->operand(0)};
    while (!pending.empty()) { // left to right
      Value *value = pending.back();
      pending.pop_back();
      if (Op *inner = value->definingOp(); isInnerAdd(inner)) {
        pending.push_back(inner->operand(1));
        pending.push_back(inner->operand(0));
      } else {
        terms.push_back(value);
      }
    }
    const Type &type = root->result()->type();
    if (std::any_of(terms.begin(), terms.end(), [&](Value *term) { return term->type() != type; }))
      continue;
    std::vector<Value *> invariant, dependent;
    for (Value *term : terms)
      (dependences.at(term) == Dependence::State ? dependent : invariant).push_back(term);
    if (invariant.size() < 2)
      continue; // already one subexpression
    // Statics first, so their sum is computed once.
    std::stable_sort(invariant.begin(), invariant.end(),
                     [&](Value *a, Value *b) { return dependences.at(a) < dependences.at(b); });
    // New adds go just before the root, which every insertion moves on by one.
    auto beforeRoot = [&] { return original + inserted++; };
    auto sumOf = [&](const std::vector<Value *> &addends) {
      Value *sum = addends.front();
      for (size_t i = 1; i < addends.size(); ++i)
        sum = insertOp(body, beforeRoot(), OpKind::Add, {sum, addends[i]}, {}, root->location(),
                       type);
      return sum;
    };
    Value *invariantSum = sumOf(invariant), *dependentSum = sumOf(dependent);
    Value *sum = insertOp(body, beforeRoot(), OpKind::Add, {invariantSum, dependentSum}, {},
                          root->location(), type, root->result()->nameHint());
    body.replaceAllUsesWith(root->result(), sum);
    ++regrouped;
  }
  return regrouped;
}

/// Rebuilds one scan with only its state-dependent ops (see the header, steps 3 and 4).
class ScanHoister {
public:
  /// `scan` is at `position` in `graph`.
  ScanHoister(Block &graph, Op &scan, size_t position, std::vector<bool> isState)
      : graph_(graph), scan_(scan), body_(*scan.body()), yield_(*body_.terminator()),
        isState_(std::move(isState)), dependences_(classify(scan, isState_)),
        users_(findUsers(body_)), axis_(scan.axisAttr()), insertAt_(position) {}

  /// Rewrites the scan; returns the number of ops and carries that left its body.
  size_t run() {
    size_t moved = std::count(isState_.begin(), isState_.end(), false);
    for (const auto &op : body_.ops())
      if (op.get() != &yield_ && !isConstantLeaf(*op) && !staysInBody(*op))
        ++moved;
    if (moved == 0)
      return 0;
    std::vector<Value *> replacements = planOutputs();
    collectArguments();
    if (!outputs_.empty())
      buildScan();
    for (size_t m = 0; m < scan_.numResults(); ++m) {
      Value *replacement = replacements[m];
      if (auto sunk = sunkOutputs_.find(m); sunk != sunkOutputs_.end())
        replacement = sinkProduct(*sunk->second);
      else if (!replacement)
        replacement = newResults_.at(keptResults_.at(m));
      if (replacement->nameHint().empty())
        replacement->setNameHint(scan_.result(m)->nameHint());
      graph_.replaceAllUsesWith(scan_.result(m), replacement);
    }
    graph_.erase(&scan_);
    return moved;
  }

private:
  Dependence dependence(const Value *value) const { return dependences_.at(value); }

  bool isCarryOperand(const Value *value) const {
    for (size_t i = 0; i < scan_.numCarries(); ++i)
      if (yield_.operand(i) == value)
        return true;
    return false;
  }

  /// A product (`outer`, `matmul`) of the state that is only per-step outputs over the scan's
  /// axis: it moves after the scan, where it runs for all steps at once.
  bool isSunk(const Op &op) const {
    bool isProduct = op.kind() == OpKind::Outer || op.kind() == OpKind::MatMul;
    if (!isProduct || dependence(op.result()) != Dependence::State || isCarryOperand(op.result()))
      return false;
    auto uses = users_.find(op.result());
    if (uses == users_.end() || !std::all_of(uses->second.begin(), uses->second.end(),
                                             [&](const Op *use) { return use == &yield_; }))
      return false;
    for (size_t m = 0; m < scan_.numResults(); ++m)
      if (yield_.operand(scan_.numCarries() + m) == op.result() &&
          scan_.result(m)->type().axis != axis_)
        return false;
    return true;
  }

  bool staysInBody(const Op &op) const {
    return dependence(op.result()) == Dependence::State && !isSunk(op);
  }

  /// Decides what replaces each result of the scan: a hoisted sequence (returned), an output of
  /// the new scan (keptResults_; nullptr here) or a sunk product (sunkOutputs_). A result over
  /// another axis than the scan's (checkpointing saves states over a segment axis) stays an
  /// output as it is.
  std::vector<Value *> planOutputs() {
    std::vector<Value *> replacements(scan_.numResults(), nullptr);
    for (size_t m = 0; m < scan_.numResults(); ++m) {
      Value *yielded = yield_.operand(scan_.numCarries() + m);
      const Type &type = scan_.result(m)->type();
      Op *definer = yielded->definingOp();
      if (type.axis != axis_ || dependence(yielded) == Dependence::State) {
        if (definer && type.axis == axis_ && isSunk(*definer)) {
          sunkOutputs_[m] = definer;
          for (Value *operand : definer->operands())
            if (dependence(operand) == Dependence::State)
              keepOutput(operand, operand->type().sequenceOver(axis_));
        } else {
          keptResults_[m] = keepOutput(yielded, type);
        }
      } else {
        replacements[m] = asSequence(hoisted(yielded));
      }
    }
    return replacements;
  }

  /// The index of (value, type) among the new scan's outputs, added if new.
  size_t keepOutput(Value *value, const Type &type) {
    for (size_t i = 0; i < outputs_.size(); ++i)
      if (outputs_[i].value == value && outputs_[i].type == type)
        return i;
    outputs_.push_back({value, type});
    return outputs_.size() - 1;
  }

  /// The new step and static arguments: the state-independent values the staying ops and the
  /// yield read. The original arguments come first, in their order, then hoisted values in order
  /// of use.
  void collectArguments() {
    std::vector<Value *> read;
    std::unordered_set<const Value *> seen;
    auto readValue = [&](Value *value) {
      Dependence d = dependence(value);
      if ((d == Dependence::PerStep || d == Dependence::Static) && seen.insert(value).second)
        read.push_back(value);
    };
    for (const auto &op : body_.ops())
      if (op.get() != &yield_ && staysInBody(*op))
        for (Value *operand : op->operands())
          readValue(operand);
    for (const Output &output : outputs_)
      readValue(output.value);
    size_t firstStatic = scan_.numCarries() + scan_.numSteps();
    for (size_t i = scan_.numCarries(); i < body_.numArguments(); ++i)
      if (seen.count(body_.argument(i)))
        (i < firstStatic ? stepArguments_ : staticArguments_).push_back(body_.argument(i));
    for (Value *value : read) {
      bool isOriginal = value->isBlockArgument() && value->index() >= scan_.numCarries();
      if (!isOriginal)
        (dependence(value) == Dependence::PerStep ? stepArguments_ : staticArguments_)
            .push_back(value);
    }
  }

  void buildScan() {
    std::vector<Value *> operands;
    for (size_t i = 0; i < scan_.numCarries(); ++i)
      if (isState_[i])
        operands.push_back(scan_.operand(i));
    size_t carries = operands.size();
    for (Value *value : stepArguments_)
      operands.push_back(hoisted(value));
    for (Value *value : staticArguments_)
      operands.push_back(hoisted(value));
    ir::Attributes attrs = scan_.attrs();
    attrs["carries"] = static_cast<int64_t>(carries);
    attrs["steps"] = static_cast<int64_t>(stepArguments_.size());
    auto scan = std::make_unique<Op>(OpKind::Scan, std::move(operands), attrs, scan_.location());
    Block &body = scan->createBody();
    auto addArgument = [&](Value *original) {
      Value *argument = body.addArgument(original->type());
      argument->setNameHint(original->nameHint());
      inBody_[original] = argument;
    };
    for (size_t i = 0; i < scan_.numCarries(); ++i)
      if (isState_[i])
        addArgument(body_.argument(i));
    for (Value *value : stepArguments_)
      addArgument(value);
    for (Value *value : staticArguments_)
      addArgument(value);

    for (const auto &op : body_.ops()) {
      if (op.get() == &yield_ || !staysInBody(*op))
        continue;
      std::vector<Value *> mapped;
      for (Value *operand : op->operands())
        mapped.push_back(inBody(operand, body));
      auto copy = std::make_unique<Op>(op->kind(), std::move(mapped), op->attrs(), op->location());
      Value *result = copy->addResult(op->result()->type());
      result->setNameHint(op->result()->nameHint());
      inBody_[op->result()] = result;
      body.append(std::move(copy));
    }
    std::vector<Value *> yielded;
    for (size_t i = 0; i < scan_.numCarries(); ++i)
      if (isState_[i])
        yielded.push_back(inBody(yield_.operand(i), body));
    for (const Output &output : outputs_)
      yielded.push_back(inBody(output.value, body));
    ir::Attributes yieldAttrs = yield_.attrs();
    yieldAttrs["carries"] = static_cast<int64_t>(carries);
    body.append(std::make_unique<Op>(OpKind::Yield, yielded, yieldAttrs, yield_.location()));

    for (const Output &output : outputs_) {
      newResults_.push_back(scan->addResult(output.type));
      newResults_.back()->setNameHint(output.value->nameHint());
    }
    for (const auto &[m, index] : keptResults_)
      newResults_[index]->setNameHint(scan_.result(m)->nameHint());
    graph_.insert(insertAt_++, std::move(scan));
  }

  /// The value in the new body that stands for `value` of the old one; constants are copied.
  Value *inBody(Value *value, Block &body) {
    if (auto found = inBody_.find(value); found != inBody_.end())
      return found->second;
    const Op &leaf = *value->definingOp(); // only constant leaves are not mapped yet
    auto copy =
        std::make_unique<Op>(leaf.kind(), std::vector<Value *>{}, leaf.attrs(), leaf.location());
    Value *result = copy->addResult(value->type());
    body.append(std::move(copy));
    return inBody_[value] = result;
  }

  /// The value before the scan that computes the state-independent `value` of the body: a
  /// sequence for a per-step value, else static. Ops are copied on first use, operands first.
  Value *hoisted(Value *value) {
    if (auto found = hoisted_.find(value); found != hoisted_.end())
      return found->second;
    Value *result;
    if (value->isBlockArgument() && value->index() < scan_.numCarries()) {
      // A carry that is no state: the previous step's next value, init at the first step.
      size_t carry = value->index();
      Value *next = asSequence(hoisted(yield_.operand(carry)));
      result = insertOp(graph_, insertAt_++, OpKind::Shift, {next, scan_.operand(carry)},
                        {{"direction", scan_.directionAttr()}}, scan_.location(), next->type(),
                        value->nameHint());
    } else if (value->isBlockArgument()) {
      result = scan_.operand(value->index());
    } else {
      const Op &op = *value->definingOp();
      std::vector<Value *> operands;
      for (Value *operand : op.operands())
        operands.push_back(hoisted(operand));
      Type type = dependence(value) == Dependence::PerStep ? value->type().sequenceOver(axis_)
                                                           : value->type();
      result = insertOp(graph_, insertAt_++, op.kind(), std::move(operands), op.attrs(),
                        op.location(), std::move(type), value->nameHint());
    }
    return hoisted_[value] = result;
  }

  /// `value` (before the scan) as a sequence over the scan's axis.
  Value *asSequence(Value *value) {
    if (value->type().isSequence())
      return value;
    return insertOp(graph_, insertAt_++, OpKind::Repeat, {value}, {{"axis", axis_}},
                    scan_.location(), value->type().sequenceOver(axis_));
  }

  /// The sunk product after the new scan, on its results and hoisted values.
  Value *sinkProduct(const Op &product) {
    if (auto found = sunk_.find(&product); found != sunk_.end())
      return found->second;
    std::vector<Value *> operands;
    for (Value *operand : product.operands())
      operands.push_back(dependence(operand) == Dependence::State
                             ? newResults_[keepOutput(operand, operand->type().sequenceOver(axis_))]
                             : hoisted(operand));
    return sunk_[&product] =
               insertOp(graph_, insertAt_++, product.kind(), std::move(operands), product.attrs(),
                        product.location(), product.result()->type().sequenceOver(axis_));
  }

  Block &graph_;
  Op &scan_;
  Block &body_;
  Op &yield_;
  std::vector<bool> isState_;
  Dependences dependences_;
  Users users_;
  std::string axis_;
  size_t insertAt_; ///< Where the next op goes before the scan: the old scan's position.

  /// A per-step output of the new scan: an old body value and the result's type.
  struct Output {
    Value *value;
    Type type;
  };
  std::vector<Output> outputs_;
  std::vector<Value *> newResults_;                ///< The new scan's results, per output.
  std::unordered_map<size_t, size_t> keptResults_; ///< Old result index -> output index.
  std::unordered_map<size_t, Op *> sunkOutputs_;   ///< Old result index -> its sunk product.
  std::vector<Value *> stepArguments_, staticArguments_;
  std::unordered_map<const Value *, Value *> inBody_;  ///< Old body value -> new body value.
  std::unordered_map<const Value *, Value *> hoisted_; ///< Old body value -> value before.
  std::unordered_map<const Op *, Value *> sunk_;       ///< Sunk product -> its copy after.
};

bool containsPinnedOp(const Block &body) {
  return std::any_of(body.ops().begin(), body.ops().end(),
                     [](const std::unique_ptr<Op> &op) { return isPinned(*op); });
}

Expected<size_t> hoistScan(Block &graph, Op &scan) {
  if (containsPinnedOp(*scan.body()) || ir::parseSegmentAxis(scan.axisAttr()))
    return 0;
  auto position = graph.indexOf(&scan);
  if (!position)
    return position.takeError();
  std::vector<bool> isState = findStateCarries(scan);
  size_t regrouped = regroupSums(*scan.body(), classify(scan, isState));
  if (regrouped)
    removeDeadOps(*scan.body());
  return regrouped + ScanHoister(graph, scan, *position, std::move(isState)).run();
}

/// `sum_time(outer(a, b))` as one product over all steps (see the header, step 5).
size_t rewriteSumsOfOuterProducts(Block &graph) {
  size_t rewritten = 0;
  for (size_t index = 0; index < graph.ops().size(); ++index) {
    Op *sum = graph.ops()[index].get();
    if (sum->kind() != OpKind::SumTime || !sum->operand(0)->definingOp() ||
        sum->operand(0)->definingOp()->kind() != OpKind::Outer)
      continue;
    const Op &outer = *sum->operand(0)->definingOp();
    Value *a = outer.operand(0), *b = outer.operand(1);
    const Type &type = sum->result()->type();
    // New ops go just before the sum, which every insertion moves on by one.
    auto insert = [&](OpKind kind, std::vector<Value *> operands, Type resultType) {
      return insertOp(graph, index++, kind, std::move(operands), {}, sum->location(),
                      std::move(resultType));
    };
    Value *product;
    if (a->type().isSequence() && b->type().isSequence())
      product = insert(OpKind::SumOuter, {a, b}, type);
    else if (a->type().isSequence())
      product =
          insert(OpKind::Outer, {insert(OpKind::SumTime, {a}, a->type().stepType()), b}, type);
    else
      product =
          insert(OpKind::Outer, {a, insert(OpKind::SumTime, {b}, b->type().stepType())}, type);
    product->setNameHint(sum->result()->nameHint());
    graph.replaceAllUsesWith(sum->result(), product);
    ++rewritten;
  }
  return rewritten;
}

} // namespace

Expected<size_t> hoistTimeParallel(ir::Module &module) {
  size_t total = 0;
  for (const auto &graph : module.graphs()) {
    Block &block = graph->body();
    std::vector<Op *> scans;
    for (const auto &op : block.ops())
      if (op->kind() == OpKind::Scan)
        scans.push_back(op.get());
    size_t changes = 0;
    for (Op *scan : scans) {
      auto hoisted = hoistScan(block, *scan);
      if (!hoisted)
        return hoisted.takeError();
      changes += *hoisted;
    }
    changes += rewriteSumsOfOuterProducts(block);
    if (changes)
      removeDeadOps(block);
    total += changes;
  }
  return total;
}

} // namespace rnnc::passes
