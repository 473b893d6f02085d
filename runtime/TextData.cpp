#include "runtime/TextData.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>

namespace rnnc {

namespace {

namespace fs = std::filesystem;

/// The length of the UTF-8 sequence that starts with `lead`, or 0 for a byte that cannot start
/// one (a continuation byte, 0xC0/0xC1 which only start overlong forms, or 0xF5 and above).
int sequenceLength(unsigned char lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

Expected<std::string> readWholeFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error::user("cannot open '" + path.string() + "'");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad())
    return Error::user("cannot read '" + path.string() + "'");
  return contents.str();
}

bool isHidden(const fs::path &path) {
  std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

/// The regular files below `directory` (not following symbolic links, skipping hidden
/// entries), sorted by path.
Expected<std::vector<fs::path>> filesBelow(const fs::path &directory) {
  std::error_code error;
  fs::recursive_directory_iterator it(directory, error), end;
  std::vector<fs::path> files;
  for (; !error && it != end; it.increment(error)) {
    if (isHidden(it->path())) {
      if (it->is_directory(error))
        it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(error) && !it->is_symlink(error))
      files.push_back(it->path());
  }
  if (error)
    return Error::user("cannot read directory '" + directory.string() + "': " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

} // namespace

Expected<std::u32string> decodeUtf8(std::string_view bytes, const std::string &source) {
  std::u32string text;
  text.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    auto lead = static_cast<unsigned char>(bytes[i]);
    int length = sequenceLength(lead);
    auto invalid = [&] {
      return Error::user(source + ": invalid UTF-8 at byte " + std::to_string(i));
    };
    if (length == 0 || i + size_t(length) > bytes.size())
      return invalid();
    char32_t value = length == 1 ? lead : lead & (0x7F >> length);
    for (int k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(bytes[i + size_t(k)]);
      if ((next & 0xC0) != 0x80)
        return invalid();
      value = (value << 6) | (next & 0x3F);
    }
    // Overlong three- and four-byte forms, surrogates, and values past U+10FFFF.
    if ((length == 3 && value < 0x800) || (length == 4 && value < 0x10000) ||
        (value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF)
      return invalid();
    text.push_back(value);
    i += size_t(length);
  }
  return text;
}

std::string encodeUtf8(std::u32string_view text) {
  std::string bytes;
  for (char32_t c : text) {
    if (c < 0x80) {
      bytes += char(c);
    } else if (c < 0x800) {
      bytes += char(0xC0 | (c >> 6));
      bytes += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      bytes += char(0xE0 | (c >> 12));
      bytes += char(0x80 | ((c >> 6) & 0x3F));
      bytes += char(0x80 | (c & 0x3F));
    } else {
      bytes += char(0xF0 | (c >> 18));
      bytes += char(0x80 | ((c >> 12) & 0x3F));
      bytes += char(0x80 | ((c >> 6) & 0x3F));
      bytes += char(0x80 | (c & 0x3F));
    }
  }
  return bytes;
}

std::string describeCharacter(char32_t character) {
  char codePoint[16];
  std::snprintf(codePoint, sizeof codePoint, "U+%04X", unsigned(character));
  bool printable =
      character >= 0x20 && character != 0x7F && !(character >= 0x80 && character < 0xA0);
  if (!printable)
    return codePoint;
  return "'" + encodeUtf8(std::u32string(1, character)) + "' (" + codePoint + ")";
}

Expected<std::u32string> readTextCorpus(const std::string &path) {
  std::error_code error;
  fs::file_status status = fs::status(path, error);
  if (error || !fs::exists(status))
    return Error::user("cannot open '" + path + "'");

  std::u32string corpus;
  auto append = [&corpus](const std::u32string &text) {
    if (!corpus.empty() && corpus.back() != U'\n' && !text.empty())
      corpus.push_back(U'\n');
    corpus += text;
  };
  if (fs::is_directory(status)) {
    auto files = filesBelow(path);
    if (!files)
      return files.takeError();
    size_t textFiles = 0;
    for (const fs::path &file : *files) {
      auto bytes = readWholeFile(file);
      if (!bytes)
        return bytes.takeError();
      if (bytes->find('\0') != std::string::npos)
        continue;
      auto text = decodeUtf8(*bytes, file.string());
      if (!text)
        return text.takeError();
      append(*text);
      ++textFiles;
    }
    if (textFiles == 0)
      return Error::user("directory '" + path + "' has no text files");
  } else {
    auto bytes = readWholeFile(path);
    if (!bytes)
      return bytes.takeError();
    if (size_t nul = bytes->find('\0'); nul != std::string::npos)
      return Error::user(path + ": not a text file (NUL byte at byte " + std::to_string(nul) + ")");
    auto text = decodeUtf8(*bytes, path);
    if (!text)
      return text.takeError();
    append(*text);
  }
  if (corpus.empty())
    return Error::user("the corpus '" + path + "' is empty");
  return corpus;
}

Vocabulary Vocabulary::fromText(std::u32string_view text) {
  Vocabulary vocabulary;
  for (char32_t c : text)
    vocabulary.ids_.emplace(c, 0);
  int32_t id = 0;
  for (auto &[character, characterId] : vocabulary.ids_) {
    characterId = id++;
    vocabulary.characters_.push_back(character);
  }
  return vocabulary;
}

Expected<Vocabulary> Vocabulary::fromCharacters(std::string_view utf8, const std::string &source) {
  auto characters = decodeUtf8(utf8, source + ": vocabulary");
  if (!characters)
    return characters.takeError();
  Vocabulary vocabulary;
  for (char32_t c : *characters) {
    if (!vocabulary.ids_.emplace(c, int32_t(vocabulary.characters_.size())).second)
      return Error::user(source + ": vocabulary lists character " + describeCharacter(c) +
                         " twice");
    vocabulary.characters_.push_back(c);
  }
  if (vocabulary.characters_.empty())
    return Error::user(source + ": vocabulary is empty");
  return vocabulary;
}

std::optional<int32_t> Vocabulary::idOf(char32_t character) const {
  auto it = ids_.find(character);
  if (it == ids_.end())
    return std::nullopt;
  return it->second;
}

Expected<std::vector<int32_t>> Vocabulary::encode(std::u32string_view text,
                                                  const std::string &what) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto id = idOf(text[i]);
    if (!id)
      return Error::user(what + ": character " + describeCharacter(text[i]) + " at position " +
                         std::to_string(i + 1) + " is not in the vocabulary");
    ids.push_back(*id);
  }
  return ids;
}

std::string Vocabulary::decode(std::span<const int32_t> ids) const {
  std::u32string text;
  text.reserve(ids.size());
  for (int32_t id : ids)
    text.push_back(characters_.at(size_t(id)));
  return encodeUtf8(text);
}

TextSplit splitHeldOut(std::span<const int32_t> ids) {
  size_t heldOut = ids.size() / 20;
  if (heldOut == 0 && ids.size() >= 2)
    heldOut = 1;
  size_t trainSize = ids.size() - heldOut;
  return {{ids.begin(), ids.begin() + trainSize}, {ids.begin() + trainSize, ids.end()}};
}

namespace {

/// `batch` full windows of `steps` + 1 ids, the one of row b starting at start(b).
TokenBatch fullWindows(std::span<const int32_t> ids, int64_t batch, int64_t steps,
                       const std::function<size_t(int64_t)> &start) {
  TokenBatch windows{Tensor(DType::I32, {steps, batch}), Tensor(DType::I32, {steps, batch}),
                     std::nullopt, batch * steps};
  auto inputs = windows.inputs.values<int32_t>();
  auto targets = windows.targets.values<int32_t>();
  for (int64_t b = 0; b < batch; ++b) {
    size_t first = start(b);
    for (int64_t t = 0; t < steps; ++t) {
      inputs[size_t(t * batch + b)] = ids[first + size_t(t)];
      targets[size_t(t * batch + b)] = ids[first + size_t(t) + 1];
    }
  }
  return windows;
}

} // namespace

TokenBatch randomWindows(std::span<const int32_t> ids, int64_t batch, int64_t steps, Rng &rng) {
  assert(int64_t(ids.size()) > steps && "randomWindows: the text is shorter than a window");
  uint64_t starts = uint64_t(ids.size()) - uint64_t(steps);
  return fullWindows(ids, batch, steps, [&](int64_t) { return size_t(rng.nextU64() % starts); });
}

int64_t streamWindowCount(size_t ids, int64_t streams, int64_t steps) {
  int64_t length = int64_t(ids) / streams;
  return length < 1 ? 0 : (length - 1) / steps;
}

TokenBatch streamWindows(std::span<const int32_t> ids, int64_t streams, int64_t steps,
                         int64_t window, int64_t firstRow, int64_t rows) {
  assert(window < streamWindowCount(ids.size(), streams, steps) && "streamWindows: no such window");
  size_t length = ids.size() / size_t(streams);
  return fullWindows(ids, rows, steps, [&](int64_t b) {
    return size_t(firstRow + b) * length + size_t(window * steps);
  });
}

std::vector<TokenBatch> evaluationBatches(std::span<const int32_t> ids, int64_t batch,
                                          int64_t steps) {
  assert(ids.size() >= 2 && "evaluationBatches: nothing to predict");
  int64_t predictions = int64_t(ids.size()) - 1;
  int64_t chunks = (predictions + steps - 1) / steps;
  std::vector<TokenBatch> batches;
  for (int64_t first = 0; first < chunks; first += batch) {
    int64_t examples = std::min(batch, chunks - first);
    int64_t longest = std::min(steps, predictions - first * steps);
    TokenBatch chunk{Tensor(DType::I32, {longest, examples}),
                     Tensor(DType::I32, {longest, examples}), Tensor(DType::I32, {examples}), 0};
    auto inputs = chunk.inputs.values<int32_t>();
    auto targets = chunk.targets.values<int32_t>();
    auto lengths = chunk.lengths->values<int32_t>();
    bool allFull = true;
    for (int64_t b = 0; b < examples; ++b) {
      int64_t start = (first + b) * steps;
      int64_t length = std::min(steps, predictions - start);
      lengths[size_t(b)] = int32_t(length);
      allFull = allFull && length == longest;
      for (int64_t t = 0; t < length; ++t) {
        inputs[size_t(t * examples + b)] = ids[size_t(start + t)];
        targets[size_t(t * examples + b)] = ids[size_t(start + t + 1)];
      }
      chunk.predictedCharacters += length;
    }
    if (allFull)
      chunk.lengths.reset();
    batches.push_back(std::move(chunk));
  }
  return batches;
}

} // namespace rnnc
