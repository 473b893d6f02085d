// The rnnc graph IR: an SSA dataflow graph with static shapes.
//
// A Module holds the model's dims and one or more Graphs (`forward`, `generate`, and the
// `backward` produced by autodiff). A Graph is a Block: an ordered list of Ops in which every
// operand is defined earlier (SSA, topological order). Values are produced by ops (results)
// or are block arguments (scan bodies only).
//
// Scans. A recurrence over one time axis is a `scan` op with one body Block:
//   operands  = [carry inits..., step sequences..., statics...]   (counts: attrs "carries",
//               "steps"; the rest are statics)
//   body args = [carried state..., one step of each sequence..., statics...], same order
//   body ends with `yield` whose operands are [next carries..., per-step outputs...]
//   results   = one sequence per per-step output, over the scan's axis
// A body refers only to its own arguments and ops (explicit capture): every time-invariant
// value it uses — parameters, a context vector, an encoder summary — is an explicit static
// operand, so autodiff can accumulate their gradients and hoisting can see what is invariant.
// attrs: "axis" (string), "direction" ("forward" runs t = 1..L, "reverse" runs t = L..1).
//
// Every op carries the source location it came from, for diagnostics.
#pragma once

#include "ir/Type.h"
#include "runtime/Error.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace rnnc::ir {

enum class OpKind {
#define RNNC_OP(Enum, mnemonic, arity, family, traits, summary) Enum,
#include "ir/Ops.def"
};

/// The families of ir/Ops.def (its sections).
enum class OpFamily { Leaf, Elementwise, LinearAlgebra, Vector, Time, Region, Sink };

/// The traits of ir/Ops.def (see its file comment), a bit each.
enum class OpTrait : unsigned {
  None = 0,
  Lowered = 1u << 0,
  View = 1u << 1,
  CanFail = 1u << 2,
  SideEffect = 1u << 3,
  Unmergeable = 1u << 4,
  NoResult = 1u << 5,
};
constexpr OpTrait operator|(OpTrait a, OpTrait b) {
  return static_cast<OpTrait>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}

struct OpInfo {
  OpKind kind;
  const char *mnemonic;
  int arity; ///< -1 when variadic.
  OpFamily family;
  OpTrait traits;
  const char *summary;
};
const OpInfo &opInfo(OpKind kind);
/// The op kind for a mnemonic, or nullptr.
const OpInfo *lookupOp(const std::string &mnemonic);
/// Whether ir/Ops.def gives `kind` the trait.
bool hasTrait(OpKind kind, OpTrait trait);
/// Time ops that take or make whole sequences (shift, last, sum_time, …; the Time family):
/// unlike every other op outside a scan, they are not applied step by step.
bool isWholeSequenceOp(OpKind kind);
/// Ops whose result element i is computed from element i of each operand alone (a scalar
/// operand broadcast): the Elementwise family, add … abs.
bool isElementwiseOp(OpKind kind);

struct SourceLocation {
  std::string file;
  int line = 0, column = 0;
  bool known() const { return line > 0; }
  std::string str() const; ///< "file:line:col", or "<unknown>".
};

using Attribute = std::variant<int64_t, double, std::string>;
using Attributes = std::map<std::string, Attribute>;

// Typed attribute reads, one function per key of ir/Attributes.def (nameAttr(attrs),
// carriesAttr(attrs), …; Op has the same accessors for its own attributes): the key and its kind
// are fixed at compile time, so no read can misspell a key or take an integer for a string. The
// verifier guarantees that an op has every attribute its kind needs (attributeProblem() in
// Verifier.h); an attribute that is missing or of another kind reads as "" or 0, never
// undefined behaviour.
using AttrValueString = const std::string &;
using AttrValueInt = int64_t;
using AttrValueNumber = double; ///< An int or a real attribute, as a real.
const std::string &readStringAttr(const Attributes &attrs, const char *key);
int64_t readIntAttr(const Attributes &attrs, const char *key);
double readNumberAttr(const Attributes &attrs, const char *key);
#define RNNC_ATTR_KEY(accessor, key, kind)                                                         \
  inline AttrValue##kind accessor(const Attributes &attrs) { return read##kind##Attr(attrs, key); }
#include "ir/Attributes.def"

class Op;
class Block;

class Value {
public:
  Value(Type type, Op *definingOp, Block *ownerBlock, unsigned index)
      : type_(std::move(type)), definingOp_(definingOp), ownerBlock_(ownerBlock), index_(index) {}

  const Type &type() const { return type_; }
  void setType(Type type) { type_ = std::move(type); }
  /// The op that produces this value, or nullptr for a block argument.
  Op *definingOp() const { return definingOp_; }
  /// The block whose argument this is, or nullptr for an op result.
  Block *ownerBlock() const { return ownerBlock_; }
  bool isBlockArgument() const { return ownerBlock_ != nullptr; }
  unsigned index() const { return index_; }
  /// A readable name for printing (from the model source), may be empty.
  const std::string &nameHint() const { return nameHint_; }
  void setNameHint(std::string name) { nameHint_ = std::move(name); }

private:
  Type type_;
  Op *definingOp_;
  Block *ownerBlock_;
  unsigned index_;
  std::string nameHint_;
};

class Op {
public:
  Op(OpKind kind, std::vector<Value *> operands, Attributes attrs, SourceLocation location)
      : kind_(kind), operands_(std::move(operands)), attrs_(std::move(attrs)),
        location_(std::move(location)) {}

  OpKind kind() const { return kind_; }
  const char *mnemonic() const { return opInfo(kind_).mnemonic; }
  const SourceLocation &location() const { return location_; }

  const std::vector<Value *> &operands() const { return operands_; }
  Value *operand(size_t i) const { return operands_.at(i); }
  size_t numOperands() const { return operands_.size(); }
  void setOperand(size_t i, Value *value) { operands_.at(i) = value; }

  size_t numResults() const { return results_.size(); }
  Value *result(size_t i = 0) const { return results_.at(i).get(); }
  Value *addResult(Type type);

  const Attributes &attrs() const { return attrs_; }
  void setAttr(const std::string &key, Attribute value) { attrs_[key] = std::move(value); }

  // The typed attribute accessors of ir/Attributes.def (nameAttr(), axisAttr(), carriesAttr(),
  // …) on this op's attributes; see the free functions of the same names above.
#define RNNC_ATTR_KEY(accessor, key, kind)                                                         \
  AttrValue##kind accessor() const { return ir::accessor(attrs_); }
#include "ir/Attributes.def"

  /// The body of a scan; nullptr for every other op.
  Block *body() const { return body_.get(); }
  Block &createBody();

  /// The block that contains this op.
  Block *parentBlock() const { return parent_; }

  // Scan operand groups (see the file comment).
  size_t numCarries() const { return static_cast<size_t>(carriesAttr()); }
  size_t numSteps() const { return static_cast<size_t>(stepsAttr()); }
  size_t numStatics() const { return numOperands() - numCarries() - numSteps(); }
  std::vector<Value *> carryInits() const;
  std::vector<Value *> stepSequences() const;
  std::vector<Value *> staticOperands() const;
  bool isReverse() const { return directionAttr() == "reverse"; }

private:
  friend class Block;

  OpKind kind_;
  std::vector<Value *> operands_;
  std::vector<std::unique_ptr<Value>> results_;
  Attributes attrs_;
  SourceLocation location_;
  std::unique_ptr<Block> body_;
  Block *parent_ = nullptr;
};

class Block {
public:
  explicit Block(Op *parentOp = nullptr) : parentOp_(parentOp) {}

  /// The scan that owns this body, or nullptr for a graph's top-level block.
  Op *parentOp() const { return parentOp_; }

  Value *addArgument(Type type);
  const std::vector<std::unique_ptr<Value>> &arguments() const { return arguments_; }
  Value *argument(size_t i) const { return arguments_.at(i).get(); }
  size_t numArguments() const { return arguments_.size(); }

  const std::vector<std::unique_ptr<Op>> &ops() const { return ops_; }
  /// The `yield` that ends a scan body, or nullptr.
  Op *terminator() const;

  /// Appends an op (taking ownership) and returns it.
  Op *append(std::unique_ptr<Op> op);
  /// Inserts an op before position `index`.
  Op *insert(size_t index, std::unique_ptr<Op> op);
  /// The position of `op` in this block; an internal error when it is not here.
  Expected<size_t> indexOf(const Op *op) const;
  /// Removes `op` from this block (nothing when it is not here); its results must be unused.
  void erase(Op *op);
  /// Removes every op for which `dead` returns true, keeping order.
  void eraseIf(const std::function<bool(const Op &)> &dead);

  /// Replaces every use of `from` in this block and nested blocks by `to`.
  void replaceAllUsesWith(Value *from, Value *to);
  /// Calls `visit` on every op of this block and of nested scan bodies, in order.
  void walk(const std::function<void(Op &)> &visit) const;

private:
  Op *parentOp_;
  std::vector<std::unique_ptr<Value>> arguments_;
  std::vector<std::unique_ptr<Op>> ops_;
};

/// Maps values of one graph to values of a copy of it.
using ValueMapping = std::unordered_map<const Value *, Value *>;

/// Copies the ops of `source` to the end of `destination`, remapping operands through `mapping`
/// (which must already map the block arguments of `source` and any outer values it uses) and
/// recording every new result in it. Scan bodies are copied recursively.
void cloneOpsInto(const Block &source, Block &destination, ValueMapping &mapping);

class Graph {
public:
  explicit Graph(std::string name) : name_(std::move(name)) {}
  const std::string &name() const { return name_; }
  Block &body() { return body_; }
  const Block &body() const { return body_; }

  /// The leaf ops of one kind (params, inputs, targets, outputs), in order.
  std::vector<Op *> opsOfKind(OpKind kind) const;
  /// The `output` op with this name, or nullptr.
  Op *findOutput(const std::string &name) const;

private:
  std::string name_;
  Block body_;
};

/// The inputs of `graph` that are primes of generated names: sequences whose steps reach the
/// `given` operand of a `feed`, directly or through a scan's step argument. Their tensors may
/// be shorter than the axis (docs/ir.md, `feed`).
std::unordered_set<const Op *> primeInputs(const Graph &graph);

/// Every time axis `graph` mentions, in a type or in a scan's axis. A segment axis (`t/4`)
/// stands for its base axis: its length follows from the base's.
std::set<std::string> collectTimeAxes(const Graph &graph);

/// "'matmul' at model.rnn:3:5": how messages name an op.
std::string describeOp(const Op &op);

class Module {
public:
  explicit Module(std::string name = "model") : name_(std::move(name)) {}
  const std::string &name() const { return name_; }
  void setName(std::string name) { name_ = std::move(name); }

  /// Dims in declaration order (after -D overrides).
  std::vector<std::pair<std::string, int64_t>> &dims() { return dims_; }
  const std::vector<std::pair<std::string, int64_t>> &dims() const { return dims_; }

  Graph &addGraph(std::string name);
  Graph *findGraph(const std::string &name) const;
  const std::vector<std::unique_ptr<Graph>> &graphs() const { return graphs_; }
  /// Removes the graph with this name, if any.
  void removeGraph(const std::string &name);

private:
  std::string name_;
  std::vector<std::pair<std::string, int64_t>> dims_;
  std::vector<std::unique_ptr<Graph>> graphs_;
};

} // namespace rnnc::ir
