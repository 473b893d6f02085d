// Graphviz (DOT) rendering of a graph, for `rnnc graph`.
//
// A folded graph is drawn as the book's "circuit diagram" (Goodfellow et al., Fig. 10.2/10.3):
// every scan is a cluster holding its body, its carried state drawn as an edge from the next
// state back to the state, ending in a black square (the one-step delay). An unfolded graph
// (ir/Unfold.h) has no scans, so the same drawing is the unfolded computational graph. Every
// node is labelled with the op's mnemonic, the value's printed name and its type.
#pragma once

#include "ir/Graph.h"

#include <string>

namespace rnnc::ir {

/// One `digraph` for the graph, inputs at the bottom, outputs at the top.
std::string printDot(const Graph &graph);

} // namespace rnnc::ir
