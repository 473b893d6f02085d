// Checks the structural and typing rules of the graph IR; see Verifier.h for the list.
#include "ir/Verifier.h"

#include "ir/Printer.h"
#include "ir/TypeInference.h"

#include <charconv>
#include <set>
#include <unordered_set>

namespace rnnc::ir {

namespace {

enum class AttrKind { Int, Number, String };

struct AttrRule {
  OpKind op;
  const char *key;
  AttrKind kind;
};

// The attributes each op needs (ir/Attributes.def); ops may carry others (passes annotate
// freely).
struct AttrKey {
  const char *key;
  AttrKind kind;
};
namespace keys {
#define RNNC_ATTR_KEY(accessor, key, kind) constexpr AttrKey accessor{key, AttrKind::kind};
#include "ir/Attributes.def"
} // namespace keys

const AttrRule attrRules[] = {
#define RNNC_OP_ATTR(op, accessor) {OpKind::op, keys::accessor.key, keys::accessor.kind},
#include "ir/Attributes.def"
};

bool isValidInit(const std::string &init) {
  if (init == "zeros" || init == "ones" || init == "glorot" || init == "orthogonal")
    return true;
  for (std::string prefix : {"normal(", "uniform("}) {
    if (init.rfind(prefix, 0) != 0 || init.back() != ')')
      continue;
    const char *begin = init.data() + prefix.size(), *end = init.data() + init.size() - 1;
    double scale = 0;
    auto [stop, error] = std::from_chars(begin, end, scale);
    return begin != end && error == std::errc() && stop == end && scale >= 0;
  }
  return false;
}

/// A problem with the value of a present, well-kinded attribute, or "".
std::string attributeValueProblem(const std::string &key, const Attribute &value) {
  const auto *text = std::get_if<std::string>(&value);
  const auto *integer = std::get_if<int64_t>(&value);
  if ((key == "name" || key == "axis") && text && text->empty())
    return "must not be empty";
  if (key == "direction" && text && *text != "forward" && *text != "reverse")
    return "must be \"forward\" or \"reverse\"";
  if (key == "init" && text && !isValidInit(*text))
    return "must be zeros, ones, glorot, orthogonal, normal(s) or uniform(a)";
  if ((key == "carries" || key == "steps" || key == "start") && integer && *integer < 0)
    return "must be >= 0";
  if ((key == "index" || key == "len" || key == "size" || key == "factor" || key == "phase") &&
      integer && *integer < 1)
    return "must be >= 1";
  return "";
}

class Verifier {
public:
  explicit Verifier(const Graph &graph) : graph_(graph) {}

  Status run() {
    defined_.clear();
    return verifyBlock(graph_.body(), 0);
  }

private:
  static Error fail(const Op &op, const std::string &rule) {
    return Error::user("verifier: " + op.location().str() + ": " + rule + "\n  in: " + printOp(op));
  }

  std::string describe(const Op &op, size_t index) const {
    return "operand " + std::to_string(index) + " (" +
           (op.operand(index) ? nameValues(graph_.body())[op.operand(index)] : "null") + ")";
  }

  /// Checks one block; `depth` is 0 for the graph's top-level block.
  Status verifyBlock(const Block &block, size_t depth) {
    defined_.resize(depth + 1);
    defined_[depth].clear();
    for (const auto &argument : block.arguments())
      defined_[depth].insert(argument.get());
    for (const auto &op : block.ops()) {
      if (Status status = verifyOp(*op, block, depth); !status)
        return status;
      for (size_t i = 0; i < op->numResults(); ++i)
        defined_[depth].insert(op->result(i));
    }
    if (depth > 0 && !block.terminator())
      return Error::user(
          "verifier: " + block.parentOp()->location().str() +
          ": a scan body must end with 'yield'\n  in: " + printOp(*block.parentOp()));
    return Status::ok();
  }

  Status verifyOperandsDefined(const Op &op, size_t depth) {
    for (size_t i = 0; i < op.numOperands(); ++i) {
      const Value *operand = op.operand(i);
      if (!operand)
        return fail(op, "operand " + std::to_string(i) + " is null");
      if (defined_[depth].count(operand))
        continue;
      for (size_t outer = 0; outer < depth; ++outer)
        if (defined_[outer].count(operand))
          return fail(op, describe(op, i) +
                              " is defined outside this scan body; a scan body refers only to "
                              "its own arguments");
      return fail(op, describe(op, i) + " is not defined before its use in this block");
    }
    return Status::ok();
  }

  Status verifyOp(const Op &op, const Block &block, size_t depth) {
    const OpInfo &info = opInfo(op.kind());
    std::string mnemonic = std::string("'") + info.mnemonic + "'";
    if (Status status = verifyOperandsDefined(op, depth); !status)
      return status;
    if (std::string problem = attributeProblem(op.kind(), op.attrs()); !problem.empty())
      return fail(op, problem);
    if (info.arity >= 0 && op.numOperands() != static_cast<size_t>(info.arity))
      return fail(op, mnemonic + " takes " + std::to_string(info.arity) + " operand(s), got " +
                          std::to_string(op.numOperands()));
    size_t expectedResults = hasNoResult(op.kind()) ? 0 : 1;
    if (op.kind() != OpKind::Scan && op.numResults() != expectedResults)
      return fail(op, mnemonic + " must have " + std::to_string(expectedResults) +
                          " result(s), has " + std::to_string(op.numResults()));
    if (depth > 0)
      for (size_t i = 0; i < op.numResults(); ++i)
        if (op.result(i)->type().isSequence())
          return fail(op, "sequence type " + op.result(i)->type().str() + " inside a scan body");
    if (Status status = verifyPlacement(op, block, depth); !status)
      return status;
    if (Status status = verifyTypes(op); !status)
      return status;
    if (op.kind() == OpKind::Scan)
      return verifyScan(op, depth);
    return Status::ok();
  }

  /// Where an op may appear: leaves and outputs at the top level, yield last in a body,
  /// feed and sample only for generation.
  Status verifyPlacement(const Op &op, const Block &block, size_t depth) {
    std::string mnemonic = std::string("'") + op.mnemonic() + "'";
    switch (op.kind()) {
    case OpKind::Param:
    case OpKind::Input:
    case OpKind::Target:
    case OpKind::Output:
      if (depth > 0)
        return fail(op, mnemonic + " is only allowed at the top level of a graph");
      if (op.kind() == OpKind::Output && !outputNames_.insert(op.nameAttr()).second)
        return fail(op, "duplicate output name '" + op.nameAttr() + "'");
      return Status::ok();
    case OpKind::Yield:
      if (depth == 0 || block.ops().back().get() != &op)
        return fail(op, "'yield' is only allowed as the last op of a scan body");
      return Status::ok();
    case OpKind::Feed:
      if (depth == 0 || graph_.name() != "generate")
        return fail(op, "'feed' is only allowed inside a scan of the generate graph");
      return Status::ok();
    case OpKind::Sample:
      if (graph_.name() != "generate")
        return fail(op, "'sample' is only allowed in the generate graph");
      return Status::ok();
    default:
      return Status::ok();
    }
  }

  Status verifyTypes(const Op &op) {
    if (hasNoResult(op.kind()) || op.kind() == OpKind::Scan)
      return Status::ok();
    const Type &type = op.result()->type();
    switch (op.kind()) {
    case OpKind::Input:
    case OpKind::Target:
      return Status::ok();
    case OpKind::Param:
      if (!type.isReal() || type.isSequence())
        return fail(op, "'param' must be a static real tensor, not " + type.str());
      return Status::ok();
    case OpKind::Constant:
      if (!type.isReal())
        return fail(op, "'constant' must be real, not " + type.str());
      return Status::ok();
    case OpKind::TokenConstant: {
      int64_t id = op.tokenAttr();
      if (!type.isToken() || type.isSequence())
        return fail(op, "'token_constant' must be a static token, not " + type.str());
      if (id < 0 || id >= type.vocab)
        return fail(op, "token id " + std::to_string(id) + " is outside " + type.str());
      return Status::ok();
    }
    case OpKind::Broadcast: {
      const Type &operand = op.operand(0)->type();
      if (!operand.isScalar() || !type.isReal() || operand.axis != type.axis)
        return fail(op, "'broadcast' needs a real scalar operand and a real result on the same "
                        "axis (" +
                            operand.str() + " -> " + type.str() + ")");
      return Status::ok();
    }
    default:
      break;
    }
    std::vector<Type> operandTypes;
    for (const Value *operand : op.operands())
      operandTypes.push_back(operand->type());
    auto inferred = inferResultType(op.kind(), operandTypes, op.attrs());
    if (!inferred)
      return fail(op, inferred.error().message);
    if (*inferred != type)
      return fail(op, "result type " + type.str() + " does not match inferred " + inferred->str());
    return Status::ok();
  }

  Status verifyScan(const Op &scan, size_t depth) {
    size_t carries = scan.numCarries(), steps = scan.numSteps();
    const std::string &axis = scan.axisAttr();
    const Block *body = scan.body();
    if (!body)
      return fail(scan, "'scan' has no body");
    if (carries + steps > scan.numOperands())
      return fail(scan, "carries + steps (" + std::to_string(carries + steps) +
                            ") exceed the operand count (" + std::to_string(scan.numOperands()) +
                            ")");
    if (body->numArguments() != scan.numOperands())
      return fail(scan, "the body has " + std::to_string(body->numArguments()) +
                            " argument(s) for " + std::to_string(scan.numOperands()) +
                            " operand(s)");
    for (size_t i = 0; i < scan.numOperands(); ++i) {
      const Type &operand = scan.operand(i)->type();
      const Type &argument = body->argument(i)->type();
      bool isStep = i >= carries && i < carries + steps;
      if (isStep && operand.axis != axis)
        return fail(scan, "step " + describe(scan, i) + " has type " + operand.str() +
                              ", not a sequence over the scan's axis '" + axis + "'");
      if (!isStep && operand.isSequence())
        return fail(scan, (i < carries ? "carry init " : "static ") + describe(scan, i) +
                              " is a sequence (" + operand.str() + ")");
      Type expected = isStep ? operand.stepType() : operand;
      if (argument != expected)
        return fail(scan, "body argument " + std::to_string(i) + " has type " + argument.str() +
                              ", expected " + expected.str() + " for " + describe(scan, i));
    }
    if (Status status = verifyBlock(*body, depth + 1); !status)
      return status;
    const Op &yield = *body->terminator();
    if (static_cast<size_t>(yield.carriesAttr()) != carries)
      return fail(yield, "yield carries " + std::to_string(yield.carriesAttr()) +
                             " value(s) but the scan has " + std::to_string(carries) +
                             " carry(ies)");
    if (yield.numOperands() != carries + scan.numResults())
      return fail(yield, "yield gives " + std::to_string(yield.numOperands()) +
                             " value(s); the scan needs " + std::to_string(carries) +
                             " carry(ies) and " + std::to_string(scan.numResults()) +
                             " per-step output(s)");
    for (size_t i = 0; i < carries; ++i)
      if (yield.operand(i)->type() != body->argument(i)->type())
        return fail(yield, "carry " + std::to_string(i) +
                               " changes type: " + body->argument(i)->type().str() + " becomes " +
                               yield.operand(i)->type().str());
    for (size_t i = 0; i < scan.numResults(); ++i) {
      // A result over a segment axis of the scan's axis keeps one value per segment.
      const std::string &resultAxis = scan.result(i)->type().axis;
      auto segments = parseSegmentAxis(resultAxis);
      bool segmentResult = segments && segments->base == axis;
      Type expected =
          yield.operand(carries + i)->type().sequenceOver(segmentResult ? resultAxis : axis);
      if (scan.result(i)->type() != expected)
        return fail(scan, "result " + std::to_string(i) + " has type " +
                              scan.result(i)->type().str() + ", expected " + expected.str() +
                              " (or over a segment axis '" + axis + "/K')");
    }
    return Status::ok();
  }

  const Graph &graph_;
  /// Values defined so far in each block of the current nesting (0 = top level).
  std::vector<std::unordered_set<const Value *>> defined_;
  std::set<std::string> outputNames_;
};

} // namespace

std::string attributeProblem(OpKind kind, const Attributes &attrs) {
  static const char *kindNames[] = {"an integer", "a number", "a string"};
  std::string mnemonic = opInfo(kind).mnemonic;
  for (const AttrRule &rule : attrRules) {
    if (rule.op != kind)
      continue;
    auto it = attrs.find(rule.key);
    if (it == attrs.end())
      return "'" + mnemonic + "' needs attribute '" + rule.key + "'";
    const Attribute &value = it->second;
    bool kindOk = rule.kind == AttrKind::String ? std::holds_alternative<std::string>(value)
                  : rule.kind == AttrKind::Int  ? std::holds_alternative<int64_t>(value)
                                                : !std::holds_alternative<std::string>(value);
    if (!kindOk)
      return "attribute '" + std::string(rule.key) + "' of '" + mnemonic + "' must be " +
             kindNames[static_cast<int>(rule.kind)];
    if (std::string problem = attributeValueProblem(rule.key, value); !problem.empty())
      return "attribute '" + std::string(rule.key) + "' of '" + mnemonic + "' " + problem;
  }
  return "";
}

Status verifyGraph(const Graph &graph) { return Verifier(graph).run(); }

Status verifyModule(const Module &module) {
  std::set<std::string> dimNames, graphNames;
  for (const auto &[name, size] : module.dims()) {
    if (!dimNames.insert(name).second)
      return Error::user("verifier: module @" + module.name() + ": duplicate dim '" + name + "'");
    if (size < 1)
      return Error::user("verifier: module @" + module.name() + ": dim '" + name +
                         "' must be positive, is " + std::to_string(size));
  }
  for (const auto &graph : module.graphs()) {
    if (!graphNames.insert(graph->name()).second)
      return Error::user("verifier: module @" + module.name() + ": duplicate graph '@" +
                         graph->name() + "'");
    if (Status status = verifyGraph(*graph); !status)
      return status;
  }
  return Status::ok();
}

} // namespace rnnc::ir
