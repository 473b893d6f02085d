#include "compiler/frontend/Diagnostics.h"

#include "compiler/frontend/Utf8.h"

#include <algorithm>

namespace rnnc::frontend {
namespace {

// Longest stretch of a source line shown on either side of the caret. Longer lines are cut
// and marked with "...", so a diagnostic in a 10 MB line stays short.
constexpr size_t kContextBytes = 80;

struct SourceSnippet {
  std::string line;
  std::string caret;
};

// The source line around `offset` made safe for a terminal: tabs and control bytes become one
// column each, invalid UTF-8 becomes '?', and the caret lines up with the byte at `offset`.
SourceSnippet makeSnippet(std::string_view source, size_t offset) {
  offset = std::min(offset, source.size());
  size_t lineStart = offset;
  while (lineStart > 0 && source[lineStart - 1] != '\n' && offset - lineStart < kContextBytes)
    --lineStart;
  size_t lineEnd = offset;
  while (lineEnd < source.size() && source[lineEnd] != '\n' && lineEnd - offset < kContextBytes)
    ++lineEnd;
  bool cutLeft = lineStart > 0 && source[lineStart - 1] != '\n';
  bool cutRight = lineEnd < source.size() && source[lineEnd] != '\n';

  SourceSnippet snippet;
  size_t caretColumn = 0;
  if (cutLeft) {
    snippet.line = "...";
    caretColumn = 3;
  }
  size_t pos = lineStart;
  while (pos < lineEnd) {
    if (pos <= offset) // the caret goes under the character that contains `offset`
      caretColumn = snippet.line.size();
    unsigned char byte = static_cast<unsigned char>(source[pos]);
    size_t length = utf8SequenceLength(source, pos);
    if (byte == '\t' || byte == '\r') {
      snippet.line += ' ';
    } else if (byte < 0x20 || byte == 0x7F || length == 0 || pos + length > lineEnd) {
      snippet.line += '?';
      length = 1;
    } else {
      snippet.line.append(source.substr(pos, length));
    }
    pos += length;
  }
  if (offset >= lineEnd)
    caretColumn = snippet.line.size();
  if (cutRight)
    snippet.line += "...";
  // The caret column counts characters, not bytes: multi-byte characters take one column.
  size_t displayColumns = 0;
  for (size_t i = 0; i < caretColumn && i < snippet.line.size(); ++i)
    if ((static_cast<unsigned char>(snippet.line[i]) & 0xC0) != 0x80)
      ++displayColumns;
  snippet.caret = std::string(displayColumns, ' ') + "^";
  return snippet;
}

} // namespace

DiagnosticEngine::DiagnosticEngine(std::string_view source, std::string filename,
                                   unsigned errorLimit)
    : source_(source), filename_(std::move(filename)), errorLimit_(errorLimit) {}

void DiagnosticEngine::error(ast::SourceLocation loc, const std::string &message) {
  if (limitReached()) {
    lastErrorDropped_ = true;
    return;
  }
  lastErrorDropped_ = false;
  ++errorCount_;
  reports_.push_back({loc.offset, format(loc, "error", message)});
}

void DiagnosticEngine::note(ast::SourceLocation loc, const std::string &message) {
  if (!lastErrorDropped_ && !reports_.empty())
    reports_.back().text += format(loc, "note", message);
}

std::string DiagnosticEngine::format(ast::SourceLocation loc, const char *severity,
                                     const std::string &message) const {
  SourceSnippet snippet = makeSnippet(source_, loc.offset);
  return filename_ + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column) + ": " +
         severity + ": " + message + "\n" + snippet.line + "\n" + snippet.caret + "\n";
}

Error DiagnosticEngine::takeError() {
  std::stable_sort(reports_.begin(), reports_.end(),
                   [](const Report &a, const Report &b) { return a.offset < b.offset; });
  std::string text;
  for (const Report &report : reports_)
    text += report.text;
  if (limitReached())
    text += filename_ + ": error: too many errors emitted, stopping now\n";
  reports_.clear();
  return Error::user(std::move(text));
}

std::string quoteForMessage(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string shown;
  for (size_t pos = 0; pos < text.size() && shown.size() < kMaxShown;) {
    size_t length = utf8SequenceLength(text, pos);
    unsigned char byte = static_cast<unsigned char>(text[pos]);
    if (length == 0 || byte < 0x20 || byte == 0x7F) {
      shown += '?';
      length = 1;
    } else {
      shown.append(text.substr(pos, length));
    }
    pos += length;
    if (pos < text.size() && shown.size() >= kMaxShown)
      shown += "...";
  }
  return "'" + shown + "'";
}

} // namespace rnnc::frontend
