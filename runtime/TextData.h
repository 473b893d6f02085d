// Character-level text data for training language models: reading a corpus, its vocabulary,
// encoding, the held-out split and random training windows.
//
// Characters are Unicode code points, not bytes: a model of UTF-8 text then never predicts half
// a character, samples are always valid text, and the vocabulary of an English corpus with a few
// accented letters stays small (each letter is one token, not two). The price is that a corpus
// must be valid UTF-8; invalid bytes are an error naming the file and byte offset.
//
// A corpus is one text file or a directory of them. In a directory, every regular file below
// it (recursively; symbolic links and hidden entries are skipped, so Debian's fortunes `*.u8`
// links do not count twice) is read in sorted path order; a file with a NUL byte is binary and
// skipped (the fortunes `*.dat` indexes); the files are joined with a newline between two files
// when the first does not end with one. A single file named explicitly must be text.
//
// The vocabulary is the set of distinct characters of the whole corpus, in code-point order, so
// the same corpus always gives the same ids. The held-out split is the last 5% of the characters.
#pragma once

#include "runtime/Error.h"
#include "runtime/Init.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rnnc {

/// Decodes UTF-8 `bytes` into code points. Invalid UTF-8 (overlong forms, surrogates, values
/// above U+10FFFF, truncated sequences) is a user error "<source>: invalid UTF-8 at byte N".
Expected<std::u32string> decodeUtf8(std::string_view bytes, const std::string &source);

/// The UTF-8 encoding of the code points `text`.
std::string encodeUtf8(std::u32string_view text);

/// How a character is named in messages: 'a' (U+0061); control characters appear by code
/// point only: U+000A.
std::string describeCharacter(char32_t character);

/// Reads the corpus at `path` (a text file or a directory of them, see the file comment).
/// Errors: a missing or unreadable path, a directory without text files, invalid UTF-8, a
/// file named explicitly that holds a NUL byte, and an empty corpus.
Expected<std::u32string> readTextCorpus(const std::string &path);

/// The characters of a corpus and their token ids 0 … size()-1.
class Vocabulary {
public:
  /// Every distinct character of `text`, in code-point order.
  static Vocabulary fromText(std::u32string_view text);
  /// The characters in id order, as stored in a checkpoint; a repeated character or invalid
  /// UTF-8 is a user error naming `source`.
  static Expected<Vocabulary> fromCharacters(std::string_view utf8, const std::string &source);

  int64_t size() const { return int64_t(characters_.size()); }
  /// The id of `character`, or nullopt when it is not in the vocabulary.
  std::optional<int32_t> idOf(char32_t character) const;
  /// The characters in id order, UTF-8 encoded (fromCharacters' inverse).
  std::string characters() const { return encodeUtf8(characters_); }

  /// The ids of `text`. A character outside the vocabulary is a user error naming it and its
  /// 1-based position: "<what>: character 'é' (U+00E9) at position 3 is not in the vocabulary".
  Expected<std::vector<int32_t>> encode(std::u32string_view text, const std::string &what) const;
  /// The UTF-8 text of `ids` (each in [0, size())).
  std::string decode(std::span<const int32_t> ids) const;

  bool operator==(const Vocabulary &other) const = default;

private:
  std::u32string characters_;
  std::map<char32_t, int32_t> ids_;
};

/// A corpus as token ids: the training part and the held-out part (the last 5% of the ids,
/// rounded down, at least one character when the corpus has two or more).
struct TextSplit {
  std::vector<int32_t> train, heldOut;
};
TextSplit splitHeldOut(std::span<const int32_t> ids);

/// One batch of next-character prediction: `inputs` and `targets` are I32 [T, B] (time-major),
/// targets[t, b] the character after inputs[t, b]; `lengths` (I32 [B]) when some sequence is
/// shorter than T (its padding is id 0).
struct TokenBatch {
  Tensor inputs, targets;
  std::optional<Tensor> lengths;
  int64_t predictedCharacters = 0; ///< The sum of the lengths.
};

/// `batch` windows of `steps` + 1 consecutive ids, each starting at a uniformly random position
/// of `ids` drawn from `rng`: inputs are the first `steps` ids of a window, targets the last.
/// Precondition: ids.size() > steps.
TokenBatch randomWindows(std::span<const int32_t> ids, int64_t batch, int64_t steps, Rng &rng);

/// Stateful text (`rnnc train --stateful`): `ids` cut into `streams` consecutive streams, one per
/// batch row (row r reads ids [r L, (r + 1) L), L = ids.size() / streams; the rest is unused).
/// Window w of rows [firstRow, firstRow + rows) holds the `steps` + 1 ids of each row from
/// w * steps, so window w + 1 continues window w: a model's final state of one is its initial
/// state for the next. Precondition: window < streamWindowCount(...).
TokenBatch streamWindows(std::span<const int32_t> ids, int64_t streams, int64_t steps,
                         int64_t window, int64_t firstRow, int64_t rows);
/// The windows of each stream: (L - 1) / steps (0 when a stream is too short for one).
int64_t streamWindowCount(size_t ids, int64_t streams, int64_t steps);

/// Batches that predict every id of `ids` after the first exactly once: consecutive chunks of at
/// most `steps` predictions, `batch` chunks per batch (the last chunk and batch may be shorter).
/// Each chunk starts from the model's initial state. Precondition: ids.size() >= 2.
std::vector<TokenBatch> evaluationBatches(std::span<const int32_t> ids, int64_t batch,
                                          int64_t steps);

} // namespace rnnc
