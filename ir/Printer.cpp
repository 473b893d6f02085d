// Prints modules, graphs and ops in the textual form of docs/ir.md.
#include "ir/Printer.h"

#include "runtime/QuotedString.h"

#include <charconv>
#include <set>

namespace rnnc::ir {

namespace {

/// A name the lexer reads back as one token: [A-Za-z0-9_.]+, never all digits (those are the
/// numbers of unnamed values).
std::string lexableName(const std::string &hint) {
  std::string name;
  bool allDigits = true;
  for (char c : hint) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
    name += ok ? c : '_';
    allDigits = allDigits && std::isdigit(static_cast<unsigned char>(c));
  }
  return allDigits ? "v" + name : name;
}

class Namer {
public:
  ValueNames names;

  void nameBlock(const Block &block) {
    for (const auto &argument : block.arguments())
      name(*argument);
    for (const auto &op : block.ops()) {
      for (size_t i = 0; i < op->numResults(); ++i)
        name(*op->result(i));
      if (op->body())
        nameBlock(*op->body());
    }
  }

private:
  void name(const Value &value) {
    if (value.nameHint().empty()) {
      names[&value] = "%" + std::to_string(nextNumber_++);
      return;
    }
    std::string base = lexableName(value.nameHint()), candidate = base;
    for (int suffix = 1; !used_.insert(candidate).second; ++suffix)
      candidate = base + "." + std::to_string(suffix);
    names[&value] = "%" + candidate;
  }

  std::set<std::string> used_;
  int nextNumber_ = 0;
};

std::string realText(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, end);
  if (text.find_first_of(".eni") == std::string::npos) // not 1.5, 1e+20, inf or nan
    text += ".0";
  return text;
}

class Printer {
public:
  explicit Printer(ValueNames names) : names_(std::move(names)) {}

  std::string nameOf(const Value *value) const {
    if (!value)
      return "%<null>";
    auto it = names_.find(value);
    return it == names_.end() ? "%<unknown>" : it->second;
  }

  /// The op's text up to its region (or its whole text when it has none), without the types.
  std::string header(const Op &op) const {
    std::string line;
    for (size_t i = 0; i < op.numResults(); ++i)
      line += (i ? ", " : "") + nameOf(op.result(i));
    if (op.numResults())
      line += " = ";
    line += op.mnemonic();
    if (!op.attrs().empty()) {
      line += " {";
      bool first = true;
      for (const auto &[key, value] : op.attrs()) {
        line += (first ? "" : ", ") + key + " = " + printAttribute(value);
        first = false;
      }
      line += "}";
    }
    for (size_t i = 0; i < op.numOperands(); ++i)
      line += (i ? ", " : " ") + nameOf(op.operand(i));
    return line;
  }

  static std::string resultTypes(const Op &op) {
    if (!op.numResults())
      return "";
    std::string text = " : ";
    for (size_t i = 0; i < op.numResults(); ++i)
      text += (i ? ", " : "") + op.result(i)->type().str();
    return text;
  }

  void printBlockOps(const Block &block, int indent, std::string &out) const {
    for (const auto &op : block.ops())
      printOpLines(*op, indent, out);
  }

  void printOpLines(const Op &op, int indent, std::string &out) const {
    std::string pad(static_cast<size_t>(indent), ' ');
    out += pad + header(op);
    if (const Block *body = op.body()) {
      out += " {\n" + pad + "^(";
      for (size_t i = 0; i < body->numArguments(); ++i)
        out += (i ? ", " : "") + nameOf(body->argument(i)) + ": " + body->argument(i)->type().str();
      out += "):\n";
      printBlockOps(*body, indent + 2, out);
      out += pad + "}";
    }
    out += resultTypes(op) + "\n";
  }

private:
  ValueNames names_;
};

void printGraphInto(const Graph &graph, int indent, std::string &out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  out += pad + "graph @" + lexableName(graph.name()) + " {\n";
  Printer(nameValues(graph.body())).printBlockOps(graph.body(), indent + 2, out);
  out += pad + "}\n";
}

} // namespace

ValueNames nameValues(const Block &graphBody) {
  Namer namer;
  namer.nameBlock(graphBody);
  return std::move(namer.names);
}

std::string printAttribute(const Attribute &value) {
  if (const auto *integer = std::get_if<int64_t>(&value))
    return std::to_string(*integer);
  if (const auto *real = std::get_if<double>(&value))
    return realText(*real);
  return quoteString(std::get<std::string>(value), QuoteStyle::IrText);
}

std::string printModule(const Module &module) {
  std::string out = "module @" + lexableName(module.name()) + " {\n";
  for (const auto &[name, size] : module.dims())
    out += "  dim " + lexableName(name) + " = " + std::to_string(size) + "\n";
  bool first = module.dims().empty();
  for (const auto &graph : module.graphs()) {
    if (!first)
      out += "\n";
    first = false;
    printGraphInto(*graph, 2, out);
  }
  return out + "}\n";
}

std::string printGraph(const Graph &graph) {
  std::string out;
  printGraphInto(graph, 0, out);
  return out;
}

std::string printOp(const Op &op) {
  // Name the values as the whole graph does: climb to the graph's top-level block.
  const Block *root = op.parentBlock();
  while (root && root->parentOp() && root->parentOp()->parentBlock())
    root = root->parentOp()->parentBlock();
  Printer printer(root ? nameValues(*root) : ValueNames{});
  return printer.header(op) + (op.body() ? " { ... }" : "") + Printer::resultTypes(op);
}

} // namespace rnnc::ir
