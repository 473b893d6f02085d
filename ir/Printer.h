// The textual form of the graph IR (docs/ir.md, "Textual form"): modules, graphs and single ops
// printed exactly as the parser (ir/Parser.h) reads them back, so that printing is a fixed
// point: print(parse(print(m))) == print(m).
//
// Value names are per graph: a value's nameHint, made lexable and uniqued with a `.N` suffix
// (`%h`, `%h.1`), else a number in order of definition (`%0`, `%1`). Attributes print sorted by
// key; reals always carry a `.` or an exponent (or are `inf`/`nan`) and round-trip exactly.
#pragma once

#include "ir/Graph.h"

#include <string>
#include <unordered_map>

namespace rnnc::ir {

std::string printModule(const Module &module);
std::string printGraph(const Graph &graph);

/// One op's line (a scan's body elided as `{ ... }`), named as in its whole graph; for
/// diagnostics.
std::string printOp(const Op &op);

/// The printed name ("%h.1") of every value of a graph's top-level block and nested bodies.
using ValueNames = std::unordered_map<const Value *, std::string>;
ValueNames nameValues(const Block &graphBody);

/// An attribute value as printed: 12, 0.5, 1.0e+20, "glorot".
std::string printAttribute(const Attribute &value);

} // namespace rnnc::ir
