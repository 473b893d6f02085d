// Text data: UTF-8 decoding, reading a corpus from a file or a directory, the vocabulary,
// the held-out split, random windows, evaluation batches, and every bad-data error.
#include "runtime/TextData.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <unistd.h>

namespace rnnc {
namespace {

namespace fs = std::filesystem;

/// A fresh directory for one test, removed afterwards.
class TextDataTest : public ::testing::Test {
protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("rnnc-textdata-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::string write(const std::string &name, const std::string &bytes) {
    fs::path path = directory_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
  }
  std::string path(const std::string &name = "") const { return (directory_ / name).string(); }

  fs::path directory_;
};

std::string errorOf(const Expected<std::u32string> &result) {
  return result ? "ok" : result.error().message;
}

TEST(Utf8Test, DecodesAndEncodesEveryLength) {
  std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"; // a é € 😀
  auto decoded = decodeUtf8(text, "x");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, (std::u32string{U'a', 0xE9, 0x20AC, 0x1F600}));
  EXPECT_EQ(encodeUtf8(*decoded), text);
}

TEST(Utf8Test, InvalidInputNamesTheByte) {
  EXPECT_EQ(errorOf(decodeUtf8("ab\x80", "f")), "f: invalid UTF-8 at byte 2");   // stray
  EXPECT_EQ(errorOf(decodeUtf8("\xC0\x80", "f")), "f: invalid UTF-8 at byte 0"); // overlong
  EXPECT_EQ(errorOf(decodeUtf8("\xE0\x80\x80", "f")), "f: invalid UTF-8 at byte 0");
  EXPECT_EQ(errorOf(decodeUtf8("x\xED\xA0\x80", "f")), "f: invalid UTF-8 at byte 1"); // surrogate
  EXPECT_EQ(errorOf(decodeUtf8("\xF4\x90\x80\x80", "f")), "f: invalid UTF-8 at byte 0");
  EXPECT_EQ(errorOf(decodeUtf8("ok\xE2\x82", "f")), "f: invalid UTF-8 at byte 2"); // truncated
}

TEST(Utf8Test, DescribesCharacters) {
  EXPECT_EQ(describeCharacter(U'a'), "'a' (U+0061)");
  EXPECT_EQ(describeCharacter(0xE9), "'\xC3\xA9' (U+00E9)");
  EXPECT_EQ(describeCharacter(U'\n'), "U+000A");
  EXPECT_EQ(describeCharacter(U' '), "' ' (U+0020)");
}

TEST(VocabularyTest, CodePointsInOrder) {
  Vocabulary vocabulary = Vocabulary::fromText(U"bab\u00e9a\n");
  EXPECT_EQ(vocabulary.size(), 4);
  EXPECT_EQ(vocabulary.characters(), "\nab\xC3\xA9");
  EXPECT_EQ(vocabulary.idOf(U'\n'), 0);
  EXPECT_EQ(vocabulary.idOf(0xE9), 3);
  EXPECT_EQ(vocabulary.idOf(U'z'), std::nullopt);
  auto ids = vocabulary.encode(U"ab\u00e9", "text");
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(vocabulary.decode(*ids), "ab\xC3\xA9");
}

TEST(VocabularyTest, UnknownCharacterNamesItAndItsPosition) {
  Vocabulary vocabulary = Vocabulary::fromText(U"abc");
  auto ids = vocabulary.encode(U"ab\u00f1c", "--prime");
  ASSERT_FALSE(ids);
  EXPECT_EQ(ids.error().message,
            "--prime: character '\xC3\xB1' (U+00F1) at position 3 is not in the vocabulary");
}

TEST(VocabularyTest, RoundTripsThroughItsCharacters) {
  Vocabulary vocabulary = Vocabulary::fromText(U"hello, world\n");
  auto restored = Vocabulary::fromCharacters(vocabulary.characters(), "ckpt");
  ASSERT_TRUE(restored);
  EXPECT_EQ(*restored, vocabulary);
  auto repeated = Vocabulary::fromCharacters("aba", "ckpt");
  ASSERT_FALSE(repeated);
  EXPECT_EQ(repeated.error().message, "ckpt: vocabulary lists character 'a' (U+0061) twice");
  auto empty = Vocabulary::fromCharacters("", "ckpt");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "ckpt: vocabulary is empty");
}

TEST(SplitTest, HoldsOutTheLastFivePercent) {
  std::vector<int32_t> ids(100);
  std::iota(ids.begin(), ids.end(), 0);
  TextSplit split = splitHeldOut(ids);
  EXPECT_EQ(split.train.size(), 95u);
  ASSERT_EQ(split.heldOut.size(), 5u);
  EXPECT_EQ(split.heldOut.front(), 95);
  EXPECT_EQ(splitHeldOut(std::span(ids).first(39)).heldOut.size(), 1u);
  EXPECT_EQ(splitHeldOut(std::span(ids).first(2)).heldOut.size(), 1u);
  EXPECT_EQ(splitHeldOut(std::span(ids).first(1)).heldOut.size(), 0u);
}

TEST(WindowsTest, TargetsAreTheNextCharacters) {
  std::vector<int32_t> ids(50);
  std::iota(ids.begin(), ids.end(), 0);
  Rng rng(7);
  TokenBatch batch = randomWindows(ids, 3, 5, rng);
  EXPECT_EQ(batch.inputs.shape(), (std::vector<int64_t>{5, 3}));
  EXPECT_FALSE(batch.lengths);
  EXPECT_EQ(batch.predictedCharacters, 15);
  auto x = batch.inputs.values<int32_t>(), y = batch.targets.values<int32_t>();
  for (int64_t t = 0; t < 5; ++t)
    for (int64_t b = 0; b < 3; ++b) {
      EXPECT_EQ(y[t * 3 + b], x[t * 3 + b] + 1);
      if (t > 0) {
        EXPECT_EQ(x[t * 3 + b], x[(t - 1) * 3 + b] + 1);
      }
      EXPECT_LT(y[t * 3 + b], 50);
    }
  Rng same(7);
  TokenBatch again = randomWindows(ids, 3, 5, same);
  EXPECT_EQ(again.inputs, batch.inputs);
}

TEST(WindowsTest, EveryStartIsReachable) {
  std::vector<int32_t> ids = {0, 1, 2, 3};
  Rng rng(1);
  std::set<int32_t> starts;
  for (int i = 0; i < 100; ++i) {
    TokenBatch batch = randomWindows(ids, 1, 2, rng);
    starts.insert(batch.inputs.values<int32_t>()[0]);
  }
  EXPECT_EQ(starts, (std::set<int32_t>{0, 1}));
}

TEST(WindowsTest, StreamWindowsContinueEachOther) {
  // 3 streams of 7 ids (22 ids, the last unused), windows of 3: (7 - 1) / 3 = 2 per stream.
  std::vector<int32_t> ids(22);
  std::iota(ids.begin(), ids.end(), 0);
  EXPECT_EQ(streamWindowCount(ids.size(), 3, 3), 2);
  EXPECT_EQ(streamWindowCount(ids.size(), 3, 7), 0);
  // Window 1 of rows 1 and 2: stream 1 is ids 7-13, stream 2 ids 14-20; time-major [3, 2].
  TokenBatch window = streamWindows(ids, 3, 3, 1, 1, 2);
  auto inputs = window.inputs.values<int32_t>(), targets = window.targets.values<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(inputs.begin(), inputs.end()),
            (std::vector<int32_t>{10, 17, 11, 18, 12, 19}));
  EXPECT_EQ(std::vector<int32_t>(targets.begin(), targets.end()),
            (std::vector<int32_t>{11, 18, 12, 19, 13, 20}));
  EXPECT_FALSE(window.lengths);
  EXPECT_EQ(window.predictedCharacters, 6);
}

TEST(WindowsTest, EvaluationPredictsEveryCharacterOnce) {
  std::vector<int32_t> ids(10);
  std::iota(ids.begin(), ids.end(), 0);
  std::vector<TokenBatch> batches = evaluationBatches(ids, 2, 4);
  ASSERT_EQ(batches.size(), 2u);
  // Chunks 0..3 -> 1..4 and 4..7 -> 5..8 fill the first batch; 8 -> 9 is the second.
  EXPECT_EQ(batches[0].inputs.shape(), (std::vector<int64_t>{4, 2}));
  EXPECT_FALSE(batches[0].lengths);
  EXPECT_EQ(batches[0].inputs.values<int32_t>()[1], 4);
  EXPECT_EQ(batches[0].targets.values<int32_t>()[7], 8);
  EXPECT_EQ(batches[1].inputs.shape(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(batches[1].targets.values<int32_t>()[0], 9);
  EXPECT_EQ(batches[0].predictedCharacters + batches[1].predictedCharacters, 9);

  std::vector<TokenBatch> ragged = evaluationBatches(std::span(ids).first(7), 4, 4);
  ASSERT_EQ(ragged.size(), 1u);
  ASSERT_TRUE(ragged[0].lengths);
  EXPECT_EQ(ragged[0].lengths->values<int32_t>()[0], 4);
  EXPECT_EQ(ragged[0].lengths->values<int32_t>()[1], 2);
  EXPECT_EQ(ragged[0].predictedCharacters, 6);
}

TEST_F(TextDataTest, ReadsAFile) {
  auto text = readTextCorpus(write("a.txt", "h\xC3\xA9llo\n"));
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, U"h\u00e9llo\n");
}

TEST_F(TextDataTest, ReadsADirectoryInPathOrder) {
  write("b.txt", "second\n");
  write("a.txt", "first");                    // no final newline: one is added between files
  write("sub/c.txt", "third\n");              // recursive
  write(".hidden", "never\n");                // hidden
  write("index.dat", std::string("\0\1", 2)); // binary: skipped
  fs::create_symlink(directory_ / "a.txt", directory_ / "a.u8"); // a link: skipped
  auto text = readTextCorpus(path());
  ASSERT_TRUE(text);
  EXPECT_EQ(encodeUtf8(*text), "first\nsecond\nthird\n");
}

TEST_F(TextDataTest, BadDataErrors) {
  EXPECT_EQ(errorOf(readTextCorpus(path("missing"))), "cannot open '" + path("missing") + "'");
  EXPECT_EQ(errorOf(readTextCorpus(path())), "directory '" + path() + "' has no text files");
  write("index.dat", std::string("\0\1", 2));
  EXPECT_EQ(errorOf(readTextCorpus(path())), "directory '" + path() + "' has no text files");
  EXPECT_EQ(errorOf(readTextCorpus(path("index.dat"))),
            path("index.dat") + ": not a text file (NUL byte at byte 0)");
  std::string empty = write("empty.txt", "");
  EXPECT_EQ(errorOf(readTextCorpus(empty)), "the corpus '" + empty + "' is empty");
  std::string latin1 = write("latin1.txt", "caf\xE9\n");
  EXPECT_EQ(errorOf(readTextCorpus(latin1)), latin1 + ": invalid UTF-8 at byte 3");
  EXPECT_EQ(errorOf(readTextCorpus(path())), latin1 + ": invalid UTF-8 at byte 3");
}

} // namespace
} // namespace rnnc
