#include "compiler/passes/CSE.h"

#include <map>
#include <tuple>

namespace rnnc::passes {

using ir::Block;
using ir::Op;
using ir::OpKind;
using ir::Value;

namespace {

bool isMergeable(const Op &op) {
  return !ir::hasTrait(op.kind(), ir::OpTrait::Unmergeable) && op.numResults() == 1;
}

using Key = std::tuple<OpKind, std::vector<Value *>, ir::Attributes, std::string>;

size_t eliminateIn(Block &block) {
  size_t merged = 0;
  std::map<Key, Value *> seen;
  for (const auto &op : block.ops()) {
    if (op->body())
      merged += eliminateIn(*op->body());
    if (!isMergeable(*op))
      continue;
    Key key{op->kind(), op->operands(), op->attrs(), op->result()->type().str()};
    auto [existing, inserted] = seen.emplace(std::move(key), op->result());
    if (!inserted) {
      block.replaceAllUsesWith(op->result(), existing->second);
      ++merged;
    }
  }
  return merged;
}

} // namespace

size_t eliminateCommonSubexpressions(ir::Module &module) {
  size_t merged = 0;
  for (const auto &graph : module.graphs())
    merged += eliminateIn(graph->body());
  return merged;
}

} // namespace rnnc::passes
