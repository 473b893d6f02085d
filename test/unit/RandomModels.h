// A generator of valid random models (the idea of Csmith for C compilers), for differential
// testing of the compiler against the reference interpreter (RandomModelTest). From a seed it
// writes a model file with: one or two recurrences (Elman, GRU-like or LSTM-like cells; the
// second forward in time, stacked on the first, or backward in time as in a bidirectional
// net), real or token inputs, sometimes a static context (as the initial state and an input
// every step), per-step definitions and slices of one wide projection, the language's smooth
// functions, an output every step (token or real targets) or one per sequence, and odd dims.
// Or an encoder–decoder: an encoder over axis s (forward or backward in time) whose last (first)
// state is the static context of a decoder over axis t, which reads it at every step and
// sometimes in its initial state, and is fed the previous target (teacher forcing). Where the
// language allows it the model generates: a decoder its target (`generate y[t] ~ softmax(o[t])`,
// or `= o[t]` for reals), a language model over tokens its next input (`generate x[t+1]`).
// Every model uses only smooth functions, so finite differences check its gradients.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace rnnc::test_support {

class RandomModelWriter {
public:
  explicit RandomModelWriter(uint64_t seed) : random_(seed), seed_(seed) {}

  std::string write() {
    int64_t inputDim = pickOf({1, 3, 5, 7}), hidden = pickOf({2, 3, 5, 8, 9});
    int64_t classes = pickOf({2, 3, 5}), vocabulary = pickOf({3, 4, 6});
    tokenInput_ = chance(0.4);
    context_ = chance(0.3);
    perSequence_ = chance(0.25);
    realTarget_ = !perSequence_ && chance(0.3);
    secondKind_ = perSequence_ ? pick(2) : pick(3); // 0 none, 1 stacked, 2 backward
    if (chance(0.25))
      return writeEncoderDecoder(inputDim, vocabulary, classes);
    // A language model over tokens generates its next input: the classes are the tokens.
    bool generates =
        tokenInput_ && !perSequence_ && !realTarget_ && secondKind_ != 2 && chance(0.5);
    if (generates)
      classes = vocabulary;

    head_ << "model random" << seed_ << " {\n";
    head_ << "  dim I = " << (tokenInput_ ? vocabulary : inputDim) << "\n";
    head_ << "  dim H = " << hidden << "\n  dim K = " << classes << "\n";
    if (context_)
      head_ << "  dim C = " << pickOf({2, 3, 4}) << "\n";
    head_ << "  input  x[t]: " << (tokenInput_ ? "token<I>" : "[I]") << "\n";
    if (context_)
      head_ << "  input  ctx: [C]\n";
    if (perSequence_)
      head_ << "  target label: token<K>\n";
    else
      head_ << "  target y[t]: " << (realTarget_ ? "[K]" : "token<K>") << "\n";

    std::string first = cell("h", /*direction=*/-1, /*below=*/"");
    std::string top = first, combined = first + "[t]";
    int64_t width = 1;
    if (secondKind_ == 1) { // stacked: g reads h[t]
      top = cell("g", -1, first);
      combined = top + "[t]";
    } else if (secondKind_ == 2) { // bidirectional: g runs backward over x
      std::string backward = cell("g", +1, "");
      combined = "concat(" + first + "[t], " + backward + "[t])";
      width = 2;
    }
    std::string readout = param("[K, " + std::string(width == 2 ? "2*H" : "H") + "]", "glorot");
    std::string bias = param("[K]", "uniform(0.5)");
    if (perSequence_) {
      std::string last = top + "[last]"; // one output per sequence: never bidirectional
      body_ << "  output o = " << bias << " + " << readout << " @ " << last << "\n";
      body_ << "  loss = nll(softmax(o), label)\n";
    } else {
      body_ << "  output o[t] = " << bias << " + " << readout << " @ " << combined << "\n";
      body_ << (realTarget_ ? "  loss = sum_t sqerr(o[t], y[t])\n"
                            : "  loss = sum_t nll(softmax(o[t]), y[t])\n");
      if (generates)
        body_ << "  generate x[t+1] ~ softmax(o[t])\n";
    }
    return head_.str() + params_.str() + body_.str() + "}\n";
  }

private:
  /// An encoder over s and a decoder over t (see the file comment).
  std::string writeEncoderDecoder(int64_t inputDim, int64_t vocabulary, int64_t classes) {
    head_ << "model random" << seed_ << " {\n";
    head_ << "  dim I = " << (tokenInput_ ? vocabulary : inputDim) << "\n";
    head_ << "  dim H = " << pickOf({2, 3, 5, 8, 9}) << "\n  dim K = " << classes << "\n";
    if (context_)
      head_ << "  dim C = " << pickOf({2, 3, 4}) << "\n";
    head_ << "  input  x[s]: " << (tokenInput_ ? "token<I>" : "[I]") << "\n";
    if (context_)
      head_ << "  input  ctx: [C]\n";
    head_ << "  target y[t]: " << (realTarget_ ? "[K]" : "token<K>") << "\n";

    axis_ = "s";
    bool backwardEncoder = chance(0.3);
    std::string encoder = cell("e", backwardEncoder ? +1 : -1, "");
    body_ << "  enc = " << encoder << (backwardEncoder ? "[first]" : "[last]") << "\n";
    encoderContext_ = true;
    axis_ = "t";
    stepInput_ = realTarget_ ? "y[t-1]" : "onehot(y[t-1])";
    inputDim_ = "K";
    body_ << "  y[0] = " << (realTarget_ ? "zeros" : "0") << "\n";
    std::string decoder = cell("d", -1, "");
    std::string readout = param("[K, H]", "glorot"), bias = param("[K]", "uniform(0.5)");
    body_ << "  output o[t] = " << bias << " + " << readout << " @ " << decoder << "[t]\n";
    if (realTarget_) {
      body_ << "  loss = sum_t sqerr(o[t], y[t])\n";
      body_ << "  generate y[t] = o[t]\n";
    } else {
      body_ << "  loss = sum_t nll(softmax(o[t]), y[t])\n";
      body_ << "  generate y[t] ~ softmax(o[t])\n";
    }
    return head_.str() + params_.str() + body_.str() + "}\n";
  }

  int64_t pick(int64_t n) { return static_cast<int64_t>(random_() % static_cast<uint64_t>(n)); }
  int64_t pickOf(std::initializer_list<int64_t> values) {
    return values.begin()[pick(static_cast<int64_t>(values.size()))];
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(random_) < p; }

  std::string param(const std::string &shape, const std::string &init) {
    std::string name = "p" + std::to_string(params_count_++);
    params_ << "  param " << name << ": " << shape << " = " << init << "\n";
    return name;
  }
  /// What a cell reads at each step: the input, or a decoder's previous target.
  std::string input() {
    if (!stepInput_.empty())
      return stepInput_;
    return tokenInput_ ? "onehot(x[" + axis_ + "])" : "x[" + axis_ + "]";
  }

  /// The terms of a preactivation of `rows` rows for state `state` at step t: its previous
  /// value, the input or the layer below, sometimes the context, a bias.
  std::string preactivation(const std::string &rows, const std::string &previous,
                            const std::string &below) {
    std::vector<std::string> terms;
    terms.push_back(param("[" + rows + ", H]", "glorot") + " @ " + previous);
    terms.push_back(param("[" + rows + ", " + (below.empty() ? inputDim_ : "H") + "]", "glorot") +
                    " @ " + (below.empty() ? input() : below + "[" + axis_ + "]"));
    if (context_ && chance(0.5))
      terms.push_back(param("[" + rows + ", C]", "glorot") + " @ ctx");
    if (encoderContext_) // a decoder reads the encoder's context at every step
      terms.push_back(param("[" + rows + ", H]", "glorot") + " @ enc");
    if (chance(0.8))
      terms.push_back(param("[" + rows + "]", "uniform(0.5)"));
    std::shuffle(terms.begin(), terms.end(), random_);
    std::string sum = terms[0];
    for (size_t i = 1; i < terms.size(); ++i)
      sum += (chance(0.15) ? " - " : " + ") + terms[i];
    return sum;
  }

  /// Writes a recurrence named `name` (direction −1: over t-1, +1: backward over t+1), reading
  /// the input, or the recurrence `below` when stacked; returns the name of its output state.
  std::string cell(const std::string &name, int direction, const std::string &below) {
    std::string now = "[" + axis_ + "]", before = "[" + axis_ + (direction < 0 ? "-1]" : "+1]");
    std::string previous = name + before;
    std::string start = direction < 0 ? "[0]" : "[last+1]";
    std::string initial = "zeros";
    if (context_ && direction < 0 && chance(0.5))
      initial = "tanh(" + param("[H, C]", "glorot") + " @ ctx)";
    else if (encoderContext_ && chance(0.5))
      initial = "tanh(" + param("[H, H]", "glorot") + " @ enc)";
    int64_t kind = pick(3); // 0 Elman, 1 GRU-like, 2 LSTM-like
    if (kind == 0) {
      body_ << "  " << name << start << " = " << initial << "\n";
      std::string activation = chance(0.7) ? "tanh" : "sigmoid";
      body_ << "  " << name << now + " = " << activation << "("
            << preactivation("H", previous, below) << ")\n";
      return name;
    }
    if (kind == 1) {
      body_ << "  " << name << start << " = " << initial << "\n";
      if (chance(0.5)) { // one wide projection, sliced per gate
        body_ << "  " << name << "a" + now + " = " << preactivation("2*H", previous, below) << "\n";
        body_ << "  " << name << "z" + now + " = sigmoid(slice(" << name
              << "a" + now + ", 0, H))\n";
        body_ << "  " << name << "n" + now + " = tanh(slice(" << name << "a" + now + ", H, H))\n";
      } else {
        body_ << "  " << name << "z" + now + " = sigmoid(" << preactivation("H", previous, below)
              << ")\n";
        body_ << "  " << name << "n" + now + " = tanh(" << preactivation("H", previous, below)
              << ")\n";
      }
      body_ << "  " << name << now << " = (1 - " << name << "z" + now + ") * " << name
            << "n" + now + " + " << name << "z" + now + " * " << previous << "\n";
      return name;
    }
    std::string cell = name + "c", cellPrevious = cell + before;
    body_ << "  " << name << start << " = " << initial << "\n";
    body_ << "  " << cell << start << " = zeros\n";
    body_ << "  " << name << "a" + now + " = " << preactivation("4*H", previous, below) << "\n";
    const char *gates[] = {"i", "f", "g", "o"};
    for (int gate = 0; gate < 4; ++gate)
      body_ << "  " << name << gates[gate] << now + " = " << (gate == 2 ? "tanh" : "sigmoid")
            << "(slice(" << name << "a" << now << ", "
            << (gate == 0 ? "0" : std::to_string(gate) + "*H") << ", H))\n";
    body_ << "  " << cell << now + " = " << name << "f" + now + " * " << cellPrevious << " + "
          << name << "i" + now + " * " << name << "g" + now + "\n";
    body_ << "  " << name << now + " = " << name << "o" + now + " * tanh(" << cell << now + ")\n";
    return name;
  }

  std::mt19937_64 random_;
  uint64_t seed_;
  bool tokenInput_ = false, context_ = false, perSequence_ = false, realTarget_ = false;
  bool encoderContext_ = false; ///< Writing a decoder: the static `enc` is there to read.
  std::string axis_ = "t";      ///< The time axis of the cell being written.
  std::string stepInput_;       ///< Set: what a cell reads instead of the input (a decoder).
  std::string inputDim_ = "I";  ///< The dim of what a cell reads.
  int64_t secondKind_ = 0;
  int params_count_ = 0;
  std::ostringstream head_, params_, body_;
};

/// The model of `seed`.
inline std::string randomModel(uint64_t seed) { return RandomModelWriter(seed).write(); }

} // namespace rnnc::test_support
