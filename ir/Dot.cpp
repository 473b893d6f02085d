// Writes a graph as Graphviz DOT; see Dot.h.
#include "ir/Dot.h"

#include "ir/Printer.h"

#include <unordered_map>

namespace rnnc::ir {

namespace {

std::string escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

/// Node style of an op: data (leaves), sinks and computations look different.
std::string nodeStyle(OpKind kind) {
  switch (kind) {
  case OpKind::Param:
    return "shape=box, style=\"rounded,filled\", fillcolor=\"#fde9c8\"";
  case OpKind::Input:
  case OpKind::Target:
    return "shape=box, style=\"rounded,filled\", fillcolor=\"#d7ecd9\"";
  case OpKind::Output:
    return "shape=invhouse, style=filled, fillcolor=\"#f3d3d3\"";
  default:
    return "shape=box";
  }
}

class DotWriter {
public:
  explicit DotWriter(const Graph &graph) : names_(nameValues(graph.body())) {}

  std::string write(const Graph &graph) {
    out_ = "digraph \"" + escape(graph.name()) + "\" {\n";
    out_ += "  rankdir=BT;\n";
    out_ += "  graph [fontname=\"Helvetica\", fontsize=11];\n";
    out_ += "  node [fontname=\"Helvetica\", fontsize=10];\n";
    out_ += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    writeBlock(graph.body(), 1);
    out_ += edges_ + "}\n";
    return out_;
  }

private:
  /// The node id of a value, created on first request (memoised).
  const std::string &nodeOf(const Value *value) {
    auto [it, inserted] = nodeIds_.try_emplace(value);
    if (inserted)
      it->second = "n" + std::to_string(nextNode_++);
    return it->second;
  }

  std::string label(const std::string &title, const Value *value) const {
    std::string text = title;
    if (value)
      text += "\\n" + escape(names_.at(value)) + " : " + value->type().str();
    return text;
  }

  void node(const std::string &id, const std::string &text, const std::string &style, int indent) {
    out_ += std::string(static_cast<size_t>(2 * indent), ' ') + id + " [label=\"" + text + "\", " +
            style + "];\n";
  }

  void edge(const Value *from, const std::string &to, const std::string &attrs = "") {
    edges_ += "  " + nodeOf(from) + " -> " + to + (attrs.empty() ? "" : " [" + attrs + "]") + ";\n";
  }

  std::string attrSummary(const Op &op) const {
    std::string text;
    for (const char *key : {"name", "init", "value", "index", "start", "len", "size"})
      if (auto it = op.attrs().find(key); it != op.attrs().end())
        text += (text.empty() ? " " : ", ") + escape(printAttribute(it->second));
    return text;
  }

  void writeBlock(const Block &block, int indent) {
    for (const auto &op : block.ops()) {
      if (op->kind() == OpKind::Scan) {
        writeScan(*op, indent);
        continue;
      }
      if (op->kind() == OpKind::Yield)
        continue; // drawn as the scan's delay and output edges
      std::string title = op->mnemonic() + attrSummary(*op);
      const Value *result = op->numResults() ? op->result() : nullptr;
      std::string id = result ? nodeOf(result) : "sink" + std::to_string(nextSink_++);
      node(id, label(title, result), nodeStyle(op->kind()), indent);
      for (const Value *operand : op->operands())
        edge(operand, id);
    }
  }

  void writeScan(const Op &scan, int indent) {
    std::string pad(static_cast<size_t>(2 * indent), ' ');
    const Block &body = *scan.body();
    size_t carries = scan.numCarries(), steps = scan.numSteps();
    bool reverse = scan.isReverse();
    out_ += pad + "subgraph cluster_" + std::to_string(nextCluster_++) + " {\n";
    out_ += pad + "  label=\"scan " + escape(scan.directionAttr()) + " over " +
            escape(scan.axisAttr()) + "\";\n";
    out_ += pad + "  style=\"rounded,dashed\";\n";
    for (size_t i = 0; i < body.numArguments(); ++i) {
      const Value *argument = body.argument(i);
      bool isCarry = i < carries, isStep = !isCarry && i < carries + steps;
      std::string role = isCarry ? "state" : isStep ? "step" : "static";
      node(nodeOf(argument), label(role, argument), "shape=ellipse", indent + 1);
      edge(scan.operand(i), nodeOf(argument),
           isCarry  ? "style=dashed, label=\"initial\""
           : isStep ? "label=\"" + escape(scan.axisAttr()) + "\""
                    : "style=dotted");
    }
    writeBlock(body, indent + 1);
    out_ += pad + "}\n";
    const Op &yield = *body.terminator();
    for (size_t i = 0; i < carries; ++i)
      edge(yield.operand(i), nodeOf(body.argument(i)),
           std::string("arrowhead=box, penwidth=1.5, constraint=false, label=\"delay ") +
               (reverse ? "t+1" : "t-1") + "\"");
    for (size_t i = 0; i < scan.numResults(); ++i) {
      const Value *result = scan.result(i);
      node(nodeOf(result), label("scan result", result), "shape=box, style=bold", indent);
      edge(yield.operand(carries + i), nodeOf(result), "label=\"every step\"");
    }
  }

  ValueNames names_;
  std::unordered_map<const Value *, std::string> nodeIds_;
  std::string out_, edges_;
  int nextNode_ = 0, nextSink_ = 0, nextCluster_ = 0;
};

} // namespace

std::string printDot(const Graph &graph) { return DotWriter(graph).write(graph); }

} // namespace rnnc::ir
