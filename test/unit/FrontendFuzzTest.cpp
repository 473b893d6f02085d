// Robustness of the model frontend: random bytes, random token soups, mutated models, deep
// nesting, very long lines and long dependency chains must all come back from
// parseAndCheckModel as a success or a user error (never a crash, a hang, a stack overflow or an
// internal error), with a message of bounded size.
#include "compiler/frontend/Frontend.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

const char *const kElman = R"(model elman {
  dim K = 65
  dim H = 128
  input  x[t]: token<K>
  target y[t]: token<K>
  param U: [H, K] = glorot
  param W: [H, H] = orthogonal
  param b: [H]    = zeros
  param V: [K, H] = glorot
  param c: [K]    = zeros
  h[0] = zeros
  output h[t] = tanh(b + W @ h[t-1] + U @ onehot(x[t]))
  output o[t] = c + V @ h[t]
  generate x[t+1] ~ softmax(o[t])
  loss = sum_t nll(softmax(o[t]), y[t])
}
)";

/// Runs the frontend and checks that it came back cleanly; returns whether it succeeded.
bool runFrontend(const std::string &source, const std::map<std::string, long long> &dims = {}) {
  auto result = rnnc::frontend::parseAndCheckModel(source, "fuzz.rnn", dims);
  if (result)
    return true;
  EXPECT_EQ(result.error().kind, rnnc::ErrorKind::User) << result.error().message;
  EXPECT_FALSE(result.error().message.empty());
  // At most 20 errors, each with a source line shortened to a few hundred bytes.
  EXPECT_LT(result.error().message.size(), 64u * 1024u);
  return false;
}

TEST(FrontendFuzzTest, AcceptsAValidModel) { EXPECT_TRUE(runFrontend(kElman)); }

TEST(FrontendFuzzTest, RandomBytes) {
  std::mt19937 random(1234);
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string source(random() % 300, '\0');
    for (char &byte : source)
      byte = static_cast<char>(random() % 256);
    if (iteration % 2) // often start like a model, to get past the header
      source = "model m {\n" + source;
    runFrontend(source);
  }
}

TEST(FrontendFuzzTest, RandomTokenSoup) {
  const std::vector<std::string> tokens = {
      "model", "m",      "{",      "}",       "dim",      "H",      "=",     "128",
      "input", "target", "param",  "output",  "generate", "loss",   "x",     "h",
      "t",     "s",      "[",      "]",       "(",        ")",      ",",     ":",
      ";",     "\n",     "+",      "-",       "*",        "/",      "@",     "~",
      "<",     ">",      "token",  "last",    "first",    "0",      "1",     "2",
      "0.5",   "1e-3",   "tanh",   "softmax", "onehot",   "nll",    "sum_t", "sum_s",
      "zeros", "ones",   "glorot", "slice",   "concat",   "argmax", "#c\n",  "99999999999999999999",
      "1e999", "W",      "y",      "sqerr",   "normal",   "sum"};
  std::mt19937 random(42);
  for (int iteration = 0; iteration < 5000; ++iteration) {
    std::string source = iteration % 3 ? "model m {\n" : "";
    size_t count = random() % 80;
    for (size_t i = 0; i < count; ++i)
      source += tokens[random() % tokens.size()] + (random() % 3 ? " " : "");
    if (iteration % 2)
      source += "\n}\n";
    runFrontend(source);
  }
}

TEST(FrontendFuzzTest, MutatedModels) {
  std::mt19937 random(7);
  const std::string alphabet = "()[]{}+-*/@~=:;,<>\n #0123456789abHtxyhlast_";
  int accepted = 0;
  for (int iteration = 0; iteration < 5000; ++iteration) {
    std::string source = kElman;
    int edits = 1 + random() % 4;
    for (int edit = 0; edit < edits && !source.empty(); ++edit) {
      size_t pos = random() % source.size();
      switch (random() % 3) {
      case 0:
        source.erase(pos, 1 + random() % 8);
        break;
      case 1:
        source.insert(pos, 1, alphabet[random() % alphabet.size()]);
        break;
      default:
        source[pos] = alphabet[random() % alphabet.size()];
        break;
      }
    }
    accepted += runFrontend(source);
  }
  // Some edits are harmless (inside comments or whitespace), most are not: both paths ran.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 5000);
}

TEST(FrontendFuzzTest, DeepNesting) {
  const size_t depth = 100000;
  EXPECT_FALSE(runFrontend("model m {\n  a = " + std::string(depth, '(') + "1" +
                           std::string(depth, ')') + "\n}\n"));
  EXPECT_FALSE(runFrontend("model m {\n  a = " + std::string(depth, '-') + "1\n}\n"));
  EXPECT_FALSE(runFrontend("model m {\n  a = " + std::string(depth, '[') + "\n}\n"));
  std::string sums;
  for (size_t i = 0; i < depth; ++i)
    sums += "sum_t ";
  EXPECT_FALSE(runFrontend("model m {\n  input x[t]: []\n  a = " + sums + "x[t]\n}\n"));
  EXPECT_FALSE(runFrontend("model m {\n  param p: [" + std::string(depth, '(') + "1" +
                           std::string(depth, ')') + "]\n}\n"));
  std::string calls;
  for (size_t i = 0; i < depth; ++i)
    calls += "tanh(";
  EXPECT_FALSE(runFrontend("model m {\n  a = " + calls + "1" + std::string(depth, ')') + "\n}\n"));
}

TEST(FrontendFuzzTest, LongOperatorChains) {
  // Left-associative chains build deep trees without deep parser recursion.
  std::string chain = "model m {\n  param w: [] = zeros\n  a = w";
  for (int i = 0; i < 1000000; ++i)
    chain += " + w";
  EXPECT_FALSE(runFrontend(chain + "\n}\n"));
  std::string dims = "model m {\n  param p: [1";
  for (int i = 0; i < 1000000; ++i)
    dims += "*1";
  EXPECT_FALSE(runFrontend(dims + "]\n}\n"));
  // A very wide call is not deep: it is accepted.
  std::string wide = "model m {\n  param w: [2] = zeros\n  output a = concat(w";
  for (int i = 0; i < 100000; ++i)
    wide += ", w";
  EXPECT_TRUE(runFrontend(wide + ")\n}\n"));
}

TEST(FrontendFuzzTest, TenMegabyteLines) {
  const size_t size = 10 * 1024 * 1024;
  EXPECT_FALSE(runFrontend(std::string(size, 'a')));
  EXPECT_FALSE(runFrontend("model m {\n  a = " + std::string(size, 'b') + " $\n}\n"));
  EXPECT_FALSE(runFrontend("model m {\n  dim H = " + std::string(size, '9') + "\n}\n"));
  EXPECT_FALSE(runFrontend("model m {\n  # " + std::string(size, '\xff') + "\n}\n"));
  EXPECT_FALSE(runFrontend("model m {\n" + std::string(size, '\0') + "\n}\n"));
  std::string statements = "model m {\n";
  while (statements.size() < size)
    statements += "a = b; ";
  EXPECT_FALSE(runFrontend(statements + "\n}\n"));
  // Empty statements and blank lines are fine, however many.
  EXPECT_TRUE(
      runFrontend("model m {\n" + std::string(size, ';') + std::string(size, '\n') + "}\n"));
}

TEST(FrontendFuzzTest, LongDependencyChains) {
  // 20000 definitions, each reading the previous one at the same step, then a recurrence of
  // 5000 states in a ring through t-1: the analyses are iterative and linear.
  std::string chain = "model m {\n  input x[t]: [2]\n  a0[t] = x[t]\n";
  for (int i = 1; i < 20000; ++i)
    chain += "  a" + std::to_string(i) + "[t] = a" + std::to_string(i - 1) + "[t]\n";
  EXPECT_TRUE(runFrontend(chain + "}\n"));

  std::string ring = "model m {\n  input x[t]: [2]\n";
  const int states = 5000;
  for (int i = 0; i < states; ++i) {
    std::string name = "r" + std::to_string(i);
    std::string previous = "r" + std::to_string((i + states - 1) % states);
    ring += "  " + name + "[0] = zeros\n  " + name + "[t] = " + previous + "[t-1] + x[t]\n";
  }
  EXPECT_TRUE(runFrontend(ring + "}\n"));

  std::string cycle = "model m {\n  input x[t]: [2]\n";
  for (int i = 0; i < states; ++i)
    cycle +=
        "  c" + std::to_string(i) + "[t] = c" + std::to_string((i + 1) % states) + "[t] + x[t]\n";
  EXPECT_FALSE(runFrontend(cycle + "}\n"));
}

TEST(FrontendFuzzTest, DimOverridesAreValidated) {
  EXPECT_TRUE(runFrontend(kElman, {{"H", 7}}));
  EXPECT_FALSE(runFrontend(kElman, {{"Z", 7}}));
  EXPECT_FALSE(runFrontend(kElman, {{"H", 0}}));
  EXPECT_FALSE(runFrontend(kElman, {{"H", -5}}));
  EXPECT_FALSE(runFrontend(kElman, {{"H", 1LL << 40}}));
  EXPECT_FALSE(runFrontend(kElman, {{"H", 1 << 20}, {"K", 1 << 20}})); // U is 2^40 elements
}

TEST(FrontendFuzzTest, ExamplesAreAccepted) {
  for (const char *name : {"elman", "jordan", "classify", "context", "birnn", "seq2seq", "lstm",
                           "gru", "deep", "series"}) {
    std::string path = std::string(RNNC_SOURCE_DIR) + "/examples/" + name + ".rnn";
    auto model = rnnc::frontend::parseAndCheckModelFile(path, {});
    EXPECT_TRUE(model.isOk()) << path << ":\n" << (model ? "" : model.error().message);
  }
}

} // namespace
