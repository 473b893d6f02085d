// Builds IR ops at the end of a block, inferring result types with the typing rules of
// TypeInference.h. A typing failure is sticky: the builder records the first error (with the
// location of the op being built), keeps returning placeholder values so callers need not
// check every step, and reports the error from status(); callers check it once when done.
#pragma once

#include "ir/Graph.h"
#include "ir/TypeInference.h"

namespace rnnc::ir {

class Builder {
public:
  explicit Builder(Block &block) : block_(&block) {}

  Block &block() const { return *block_; }
  void setBlock(Block &block) { block_ = &block; }
  /// The location given to every op created from now on.
  void setLocation(SourceLocation location) { location_ = std::move(location); }
  const SourceLocation &location() const { return location_; }

  /// An op with one inferred result.
  Value *create(OpKind kind, std::vector<Value *> operands, Attributes attrs = {});
  /// An op with one result of a stated type (leaves, broadcast).
  Value *createTyped(OpKind kind, std::vector<Value *> operands, Type type,
                     Attributes attrs = {});
  /// An op without results (output, yield).
  Op *createSink(OpKind kind, std::vector<Value *> operands, Attributes attrs = {});

  // Leaves.
  Value *param(const std::string &name, Type type, const std::string &init);
  Value *input(const std::string &name, Type type);
  Value *target(const std::string &name, Type type);
  Value *constant(double value, Type type);
  Value *tokenConstant(int64_t value, int64_t vocab);
  Op *output(const std::string &name, Value *value);

  /// A scan with its body arguments created (carries, one step of each sequence, statics) and
  /// no results yet; build the body with a Builder on scan->body(), then call finishScan.
  Op *beginScan(const std::string &axis, bool reverse, const std::vector<Value *> &carryInits,
                const std::vector<Value *> &stepSequences, const std::vector<Value *> &statics);
  /// Appends the yield and creates one sequence result per per-step output.
  void finishScan(Op *scan, const std::vector<Value *> &nextCarries,
                  const std::vector<Value *> &stepOutputs);

  Status status() const { return firstError_ ? Status(*firstError_) : Status::ok(); }

private:
  Op *append(OpKind kind, std::vector<Value *> operands, Attributes attrs);
  void recordError(const Error &error);

  Block *block_;
  SourceLocation location_;
  std::optional<Error> firstError_;
};

} // namespace rnnc::ir
