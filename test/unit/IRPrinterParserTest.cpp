// The textual IR: printing names and numbers values as docs/ir.md says, reals and strings
// round-trip exactly, printing is a fixed point, and the parser (and the verifier and unfolding
// after it) survive any mutation of a valid file.
#include "ir/Builder.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Unfold.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

namespace rnnc::ir {
namespace {

std::unique_ptr<Module> parseOrFail(const std::string &text) {
  auto module = parseModule(text, "test.rnnir");
  EXPECT_TRUE(module) << module.error().message;
  return module ? module.take() : std::make_unique<Module>();
}

TEST(IRPrinter, NamesAreUniquedPerGraphAndUnnamedValuesNumbered) {
  Module module("m");
  Graph &graph = module.addGraph("forward");
  Builder builder(graph.body());
  Value *x = builder.input("x", Type::real({2}));
  Value *first = builder.create(OpKind::Neg, {x});
  first->setNameHint("h");
  Value *second = builder.create(OpKind::Tanh, {first});
  second->setNameHint("h");
  Value *unnamed = builder.create(OpKind::Exp, {second});
  Value *odd = builder.create(OpKind::Log, {unnamed});
  odd->setNameHint("grad W[1]"); // not lexable as is
  Value *digits = builder.create(OpKind::Relu, {odd});
  digits->setNameHint("12"); // would read back as a number
  builder.output("o", digits);
  ASSERT_TRUE(builder.status());
  EXPECT_EQ(printGraph(graph), "graph @forward {\n"
                               "  %x = input {name = \"x\"} : f32[2]\n"
                               "  %h = neg %x : f32[2]\n"
                               "  %h.1 = tanh %h : f32[2]\n"
                               "  %0 = exp %h.1 : f32[2]\n"
                               "  %grad_W_1_ = log %0 : f32[2]\n"
                               "  %v12 = relu %grad_W_1_ : f32[2]\n"
                               "  output {name = \"o\"} %v12\n"
                               "}\n");
  EXPECT_EQ(printOp(*odd->definingOp()), "%grad_W_1_ = log %0 : f32[2]");
  std::string text = printModule(module);
  EXPECT_EQ(printModule(*parseOrFail(text)), text);
}

TEST(IRPrinter, ScanOpLineElidesTheBody) {
  auto module = parseOrFail(R"(module @m {
  graph @forward {
    %x = input {name = "x"} : f32[2][t]
    %h = scan {axis = "t", carries = 0, direction = "reverse", steps = 1} %x {
    ^(%x.1: f32[2]):
      %n = neg %x.1 : f32[2]
      yield {carries = 0} %n
    } : f32[2][t]
  }
})");
  const Op &scan = *module->graphs()[0]->body().ops()[1];
  EXPECT_EQ(printOp(scan), "%h = scan {axis = \"t\", carries = 0, direction = \"reverse\", "
                           "steps = 1} %x { ... } : f32[2][t]");
  EXPECT_EQ(printOp(*scan.body()->ops()[0]), "%n = neg %x.1 : f32[2]");
}

TEST(IRPrinter, RealAttributesRoundTripExactly) {
  const double values[] = {0.1,
                           1.0 / 3,
                           3.0,
                           -0.0,
                           1e-300,
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(),
                           1e20,
                           -2.5e-7,
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()};
  Module module("m");
  Builder builder(module.addGraph("forward").body());
  for (double value : values)
    builder.constant(value, Type::scalar());
  builder.createTyped(OpKind::Constant, {}, Type::scalar(), {{"value", int64_t{-7}}});
  std::string text = printModule(module);
  auto parsed = parseOrFail(text);
  EXPECT_EQ(printModule(*parsed), text);
  const auto &ops = parsed->graphs()[0]->body().ops();
  ASSERT_EQ(ops.size(), std::size(values) + 1);
  for (size_t i = 0; i < std::size(values); ++i) {
    const Attribute &value = ops[i]->attrs().at("value");
    ASSERT_TRUE(std::holds_alternative<double>(value)) << i;
    double parsedValue = std::get<double>(value);
    if (std::isnan(values[i])) {
      EXPECT_TRUE(std::isnan(parsedValue));
      continue;
    }
    EXPECT_EQ(parsedValue, values[i]) << i;
    EXPECT_EQ(std::signbit(parsedValue), std::signbit(values[i])) << i;
  }
  EXPECT_EQ(std::get<int64_t>(ops.back()->attrs().at("value")), -7);
}

TEST(IRPrinter, StringAttributesRoundTripExactly) {
  std::string awkward = "quote\" backslash\\ newline\n tab\t bell\x07 high\xc3\xa9";
  Module module("m");
  Builder builder(module.addGraph("forward").body());
  builder.output(awkward, builder.constant(1.0, Type::scalar()));
  std::string text = printModule(module);
  auto parsed = parseOrFail(text);
  EXPECT_EQ(parsed->graphs()[0]->body().ops()[1]->nameAttr(), awkward);
  EXPECT_EQ(printModule(*parsed), text);
}

TEST(IRParser, KeepsDimsAndGraphsInOrder) {
  auto module = parseOrFail("module @m {\n  dim K = 65\n  dim H = 128\n  graph @forward {\n  }\n"
                            "  graph @generate {\n  }\n}\n");
  EXPECT_EQ(module->name(), "m");
  ASSERT_EQ(module->dims().size(), 2u);
  EXPECT_EQ(module->dims()[0], (std::pair<std::string, int64_t>{"K", 65}));
  EXPECT_EQ(module->dims()[1], (std::pair<std::string, int64_t>{"H", 128}));
  ASSERT_EQ(module->graphs().size(), 2u);
  EXPECT_EQ(module->graphs()[1]->name(), "generate");
}

TEST(IRParser, ErrorsAreLocatedWithSourceLineAndCaret) {
  auto module =
      parseModule("module @m {\n  graph @g {\n\t%y = neg %nope : f32[]\n  }\n}\n", "bad.rnnir");
  ASSERT_FALSE(module);
  EXPECT_EQ(module.error().kind, ErrorKind::User);
  EXPECT_EQ(module.error().message, "bad.rnnir:3:11: error: use of undefined value '%nope'\n"
                                    "\t%y = neg %nope : f32[]\n"
                                    "\t         ^\n");
}

/// The all-ops lit test file, without its RUN lines.
std::string allOpsText() {
  std::ifstream in(std::string(RNNC_SOURCE_DIR) + "/test/ir/roundtrip-all-ops.rnnir");
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

TEST(IRParser, SurvivesRandomMutationsOfAValidFile) {
  const std::string original = allOpsText();
  ASSERT_FALSE(original.empty());
  const std::string alphabet = "%@{}()[]<>,:=^-\"\\ \n0123456789.eafitnx_\x01\xff";
  std::mt19937 random(1234);
  auto pick = [&](size_t bound) {
    return std::uniform_int_distribution<size_t>(0, bound - 1)(random);
  };
  int parsedCount = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text = original;
    for (int edit = 0, edits = 1 + static_cast<int>(pick(3)); edit < edits && !text.empty();
         ++edit) {
      size_t at = pick(text.size());
      switch (pick(4)) {
      case 0:
        text.erase(at, 1 + pick(8));
        break;
      case 1:
        text.insert(at, 1, alphabet[pick(alphabet.size())]);
        break;
      case 2:
        text[at] = alphabet[pick(alphabet.size())];
        break;
      default:
        text.resize(at);
        break;
      }
    }
    auto module = parseModule(text, "fuzz.rnnir");
    if (!module) {
      EXPECT_NE(module.error().message.find("fuzz.rnnir:"), std::string::npos);
      EXPECT_EQ(module.error().kind, ErrorKind::User);
      continue;
    }
    ++parsedCount;
    if (!verifyModule(**module))
      continue;
    // A valid module prints to a fixed point and unfolds to a valid module.
    std::string printed = printModule(**module);
    auto reparsed = parseModule(printed, "printed.rnnir");
    ASSERT_TRUE(reparsed) << reparsed.error().message;
    EXPECT_EQ(printModule(**reparsed), printed);
    (*module)->removeGraph("generate"); // feed cannot be unfolded
    auto unfolded = unfoldModule(**module, 2);
    if (!unfolded) { // e.g. an at_step beyond step 2: a located user error
      EXPECT_EQ(unfolded.error().message.rfind("unfold: ", 0), 0u);
      continue;
    }
    Status verified = verifyModule(**unfolded);
    EXPECT_TRUE(verified) << verified.error().message;
  }
  EXPECT_GT(parsedCount, 0);
}

} // namespace
} // namespace rnnc::ir
