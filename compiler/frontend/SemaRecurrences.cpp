// Sema phase 3: recurrences. Finds the strongly connected components of the reads graph
// (Tarjan's algorithm, iterative so no model can overflow the stack; linear, so every
// definition is visited once). A component with a cycle is a recurrence when all its members
// are per-step and every read inside it is at t, t-1 or t+1; within one step its members must
// be acyclic (no value depending on itself at the same t), and its reads must go one way in
// time: t-1 makes it forward, t+1 backward. Any other cycle (through a static value, [last],
// [first] or sum_t) is an error. Then checks initial values (required by every read at t-1 /
// t+1, useless otherwise) and that a generated value does not depend on itself.
#include "compiler/frontend/SemaState.h"

#include <algorithm>
#include <functional>
#include <queue>

namespace rnnc::frontend {
namespace {

using namespace ast;

class RecurrenceAnalysis {
public:
  explicit RecurrenceAnalysis(SemaState &state) : state_(state) {}
  void run();

private:
  void buildGraph();
  std::vector<std::vector<int>> stronglyConnectedComponents() const;
  void analyseComponent(std::vector<int> component);
  struct Edge {
    int target;
    ReadKind kind;
    const RefExpr *ref;
  };
  struct Step {
    int from;
    const Edge *edge;
  };
  std::vector<Step> findCycle(int from, const Edge &first,
                              const std::unordered_set<int> &members) const;
  std::vector<Step> findSameStepCycle(const std::unordered_set<int> &blocked) const;
  void reportCycle(const std::vector<Step> &cycle, bool sameStep);
  std::vector<Definition *> orderWithinStep(const std::vector<int> &component);
  void checkInitialValues();
  void checkGenerateClauses();

  SemaState &state_;
  std::vector<ValueDecl *> nodes_; ///< Definitions and data, in source order.
  std::unordered_map<const ValueDecl *, int> nodeIndex_;
  std::vector<std::vector<Edge>> edges_;
};

void RecurrenceAnalysis::buildGraph() {
  Model &model = state_.model;
  for (auto &definition : model.definitions)
    nodes_.push_back(definition.get());
  for (auto *list : {&model.inputs, &model.targets})
    for (auto &data : *list)
      nodes_.push_back(data.get());
  std::stable_sort(nodes_.begin(), nodes_.end(), [](const ValueDecl *a, const ValueDecl *b) {
    return a->loc.offset < b->loc.offset;
  });
  for (size_t i = 0; i < nodes_.size(); ++i)
    nodeIndex_[nodes_[i]] = static_cast<int>(i);
  edges_.resize(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    auto reads = state_.reads.find(nodes_[i]);
    if (reads == state_.reads.end())
      continue;
    for (const Read &read : reads->second) {
      auto target = nodeIndex_.find(read.target);
      if (target != nodeIndex_.end()) // parameters are leaves
        edges_[i].push_back({target->second, read.kind, read.ref});
    }
  }
}

std::vector<std::vector<int>> RecurrenceAnalysis::stronglyConnectedComponents() const {
  // Tarjan's algorithm with an explicit stack. Components come out dependencies first.
  size_t count = nodes_.size();
  std::vector<int> index(count, -1), lowLink(count, 0);
  std::vector<bool> onStack(count, false);
  std::vector<int> stack;
  std::vector<std::vector<int>> components;
  int nextIndex = 0;
  for (size_t root = 0; root < count; ++root) {
    if (index[root] != -1)
      continue;
    std::vector<std::pair<int, size_t>> work;
    auto visit = [&](int node) {
      index[node] = lowLink[node] = nextIndex++;
      stack.push_back(node);
      onStack[node] = true;
      work.push_back({node, 0});
    };
    visit(static_cast<int>(root));
    while (!work.empty()) {
      int node = work.back().first;
      size_t &nextEdge = work.back().second;
      if (nextEdge < edges_[node].size()) {
        int target = edges_[node][nextEdge++].target;
        if (index[target] == -1)
          visit(target);
        else if (onStack[target])
          lowLink[node] = std::min(lowLink[node], index[target]);
        continue;
      }
      work.pop_back();
      if (!work.empty())
        lowLink[work.back().first] = std::min(lowLink[work.back().first], lowLink[node]);
      if (lowLink[node] != index[node])
        continue;
      std::vector<int> component;
      int member;
      do {
        member = stack.back();
        stack.pop_back();
        onStack[member] = false;
        component.push_back(member);
      } while (member != node);
      components.push_back(std::move(component));
    }
  }
  return components;
}

/// A shortest cycle inside `members` that starts with `first`, a read by node `from`.
std::vector<RecurrenceAnalysis::Step>
RecurrenceAnalysis::findCycle(int from, const Edge &first,
                              const std::unordered_set<int> &members) const {
  std::unordered_map<int, Step> via; // how the breadth-first search reached each node
  via.emplace(first.target, Step{from, &first});
  std::vector<int> queue{first.target};
  for (size_t head = 0; head < queue.size(); ++head) {
    int node = queue[head];
    if (node == from) {
      std::vector<Step> path;
      do {
        path.push_back(via.at(node));
        node = path.back().from;
      } while (node != from);
      std::reverse(path.begin(), path.end());
      return path;
    }
    for (const Edge &edge : edges_[node])
      if (members.count(edge.target) && via.emplace(edge.target, Step{node, &edge}).second)
        queue.push_back(edge.target);
  }
  return {};
}

/// A cycle of same-step reads among `blocked`, nodes that each wait for another one of them.
std::vector<RecurrenceAnalysis::Step>
RecurrenceAnalysis::findSameStepCycle(const std::unordered_set<int> &blocked) const {
  std::unordered_map<int, size_t> positionInWalk;
  std::vector<Step> walk;
  int node = *std::min_element(blocked.begin(), blocked.end());
  while (!positionInWalk.count(node)) {
    positionInWalk[node] = walk.size();
    const Edge *next = nullptr;
    for (const Edge &edge : edges_[node])
      if (edge.kind == ReadKind::SameStep && blocked.count(edge.target)) {
        next = &edge;
        break;
      }
    if (!next)
      return {};
    walk.push_back({node, next});
    node = next->target;
  }
  return std::vector<Step>(walk.begin() + positionInWalk[node], walk.end());
}

void RecurrenceAnalysis::reportCycle(const std::vector<Step> &cycle, bool sameStep) {
  if (cycle.empty())
    return;
  // A long cycle is shown by its first steps and the one that closes it.
  constexpr size_t kShownSteps = 6;
  std::string chain;
  for (size_t i = 0; i < cycle.size(); ++i) {
    if (i + 1 == kShownSteps && cycle.size() > kShownSteps) {
      chain += ", ... (" + std::to_string(cycle.size() - kShownSteps) + " more)";
      i = cycle.size() - 1;
    }
    chain += (chain.empty() ? "" : ", ") + nodes_[cycle[i].from]->name + " reads " +
             formatRef(*cycle[i].edge->ref);
  }
  const std::string &name = nodes_[cycle.front().from]->name;
  if (sameStep)
    state_.diags.error(cycle.front().edge->ref->loc,
                       "'" + name + "' depends on itself within one step: " + chain);
  else
    state_.diags.error(cycle.front().edge->ref->loc,
                       "cyclic dependency: '" + name + "' depends on itself: " + chain);
}

/// The members of a recurrence in the order one step computes them (Kahn's algorithm over the
/// same-step reads, ties in source order), or empty after reporting a same-step cycle.
std::vector<Definition *> RecurrenceAnalysis::orderWithinStep(const std::vector<int> &component) {
  std::unordered_set<int> members(component.begin(), component.end());
  std::unordered_map<int, size_t> waitingFor;
  std::unordered_map<int, std::vector<int>> readers;
  for (int node : component)
    for (const Edge &edge : edges_[node])
      if (edge.kind == ReadKind::SameStep && members.count(edge.target)) {
        ++waitingFor[node];
        readers[edge.target].push_back(node);
      }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int node : component)
    if (!waitingFor[node])
      ready.push(node);
  std::vector<Definition *> order;
  while (!ready.empty()) {
    int node = ready.top();
    ready.pop();
    order.push_back(static_cast<Definition *>(nodes_[node]));
    for (int reader : readers[node])
      if (--waitingFor[reader] == 0)
        ready.push(reader);
  }
  if (order.size() == component.size())
    return order;
  std::unordered_set<int> blocked;
  for (int node : component)
    if (waitingFor[node])
      blocked.insert(node);
  reportCycle(findSameStepCycle(blocked), /*sameStep=*/true);
  return {};
}

void RecurrenceAnalysis::analyseComponent(std::vector<int> component) {
  std::sort(component.begin(), component.end()); // source order
  Model &model = state_.model;
  std::unordered_set<int> members(component.begin(), component.end());
  bool isCycle = component.size() > 1;
  bool allPerStepDefinitions = true;
  const Edge *previousRead = nullptr, *nextRead = nullptr;
  int cycleReader = -1; // the read to show an impossible cycle with: a whole read if any
  const Edge *cycleRead = nullptr;
  bool readsWhole = false;
  for (int node : component) {
    ValueDecl *decl = nodes_[node];
    allPerStepDefinitions =
        allPerStepDefinitions && decl->kind == DeclKind::Definition && decl->isPerStep();
    for (const Edge &edge : edges_[node]) {
      if (!members.count(edge.target))
        continue;
      isCycle = true;
      if (!cycleRead || (edge.kind == ReadKind::Whole && !readsWhole)) {
        cycleRead = &edge;
        cycleReader = node;
      }
      readsWhole = readsWhole || edge.kind == ReadKind::Whole;
      if (edge.kind == ReadKind::Previous && !previousRead)
        previousRead = &edge;
      if (edge.kind == ReadKind::Next && !nextRead)
        nextRead = &edge;
    }
  }
  std::vector<Definition *> definitions;
  for (int node : component)
    if (nodes_[node]->kind == DeclKind::Definition)
      definitions.push_back(static_cast<Definition *>(nodes_[node]));
  auto addToOrder = [&](const std::vector<Definition *> &order) {
    model.evaluationOrder.insert(model.evaluationOrder.end(), order.begin(), order.end());
    if (!order.empty())
      state_.components.push_back(order);
  };
  if (!isCycle) {
    addToOrder(definitions);
    return;
  }
  // Reads of static values, [last], [first] and sum_t need every step of what they read,
  // so a cycle through one of them can never be computed. (Such a read is the only way a
  // static value or an input's initial value can be part of a cycle.)
  if (readsWhole || !allPerStepDefinitions) {
    reportCycle(findCycle(cycleReader, *cycleRead, members), /*sameStep=*/false);
    addToOrder(definitions);
    return;
  }
  std::vector<Definition *> order = orderWithinStep(component);
  if (order.empty()) {
    addToOrder(definitions);
    return;
  }
  if (previousRead && nextRead) {
    state_.diags.error(nextRead->ref->loc,
                       "a recurrence runs in one direction, but this one reads both '" +
                           formatRef(*previousRead->ref) + "' and '" + formatRef(*nextRead->ref) +
                           "'; split it into a forward and a backward recurrence");
    addToOrder(order);
    return;
  }
  auto recurrence = std::make_unique<Recurrence>();
  recurrence->axis = order.front()->axis;
  recurrence->direction = nextRead ? Direction::Backward : Direction::Forward;
  recurrence->members = order;
  for (int node : component)
    for (const Edge &edge : edges_[node])
      if ((edge.kind == ReadKind::Previous || edge.kind == ReadKind::Next) &&
          members.count(edge.target))
        static_cast<Definition *>(nodes_[edge.target])->isState = true;
  for (Definition *member : order) {
    member->recurrence = recurrence.get();
    if (member->isState)
      recurrence->states.push_back(member);
  }
  model.recurrences.push_back(std::move(recurrence));
  addToOrder(order);
}

void RecurrenceAnalysis::checkInitialValues() {
  for (ValueDecl *value : nodes_) {
    std::string axis = value->axis;
    auto previous = state_.firstPreviousRead.find(value);
    if (previous != state_.firstPreviousRead.end() && !value->initialStart)
      state_.diags.error(previous->second->loc, "'" + formatRef(*previous->second) +
                                                    "' needs an initial value: add '" +
                                                    value->name + "[0] = ...'");
    auto next = state_.firstNextRead.find(value);
    if (next != state_.firstNextRead.end() && !value->initialEnd)
      state_.diags.error(next->second->loc, "'" + formatRef(*next->second) +
                                                "' needs an initial value: add '" + value->name +
                                                "[last+1] = ...'");
    if (value->initialStart && !value->readAtPrevious)
      state_.diags.error(value->initialStart->loc, "initial value '" + value->name +
                                                       "[0]' is never used: '" + value->name +
                                                       "' is not read at " + axis + "-1");
    if (value->initialEnd && !value->readAtNext)
      state_.diags.error(value->initialEnd->loc, "initial value '" + value->name +
                                                     "[last+1]' is never used: '" + value->name +
                                                     "' is not read at " + axis + "+1");
  }
}

void RecurrenceAnalysis::checkGenerateClauses() {
  // In generation a generated input/target is computed from the clause's value, so that value
  // must not depend on the generated step itself: not at the same step (nor, for x[t+1], at
  // t+1), and not through anything that reads the whole sequence.
  for (auto &clause : state_.model.generates) {
    DataDecl *data = clause->target;
    if (!data)
      continue;
    std::unordered_set<const ValueDecl *> visitedSameStep, visitedWhole;
    const RefExpr *offending = nullptr;
    // Depth-first over (reads, whole) with an explicit stack: chains of definitions can be long.
    std::vector<std::pair<const std::vector<Read> *, bool>> pending{
        {&state_.generateReads[clause.get()], false}};
    while (!pending.empty() && !offending) {
      auto [reads, whole] = pending.back();
      pending.pop_back();
      for (const Read &read : *reads) {
        bool readsWhole = whole || read.kind == ReadKind::Whole;
        if (read.target == data) {
          if (readsWhole || read.kind == ReadKind::Next ||
              (read.kind == ReadKind::SameStep && !clause->isNextStep))
            offending = read.ref;
          continue;
        }
        if (!readsWhole && read.kind != ReadKind::SameStep)
          continue; // the past cannot depend on the step being generated
        auto &visited = readsWhole ? visitedWhole : visitedSameStep;
        if (!visited.insert(read.target).second)
          continue;
        auto next = state_.reads.find(read.target);
        if (next != state_.reads.end())
          pending.push_back({&next->second, readsWhole});
      }
    }
    if (offending) {
      state_.diags.error(clause->loc, "generated '" + clause->name + "[" + clause->indexAxis +
                                          (clause->isNextStep ? "+1" : "") +
                                          "]' depends on itself");
      state_.diags.note(offending->loc, "through this read of '" + formatRef(*offending) + "'");
    }
  }
}

void RecurrenceAnalysis::run() {
  buildGraph();
  for (auto &component : stronglyConnectedComponents())
    analyseComponent(std::move(component));
  checkInitialValues();
  checkGenerateClauses();
}

} // namespace

void checkRecurrences(SemaState &state) { RecurrenceAnalysis(state).run(); }

} // namespace rnnc::frontend
