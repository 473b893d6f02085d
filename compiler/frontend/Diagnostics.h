// Diagnostics of one frontend run: clang-style located errors and notes
//
//   elman.rnn:12:9: error: undefined name 'Wx'
//     h[t] = Wx @ h[t-1]
//            ^
//
// collected and handed back as a single rnnc::Error (ErrorKind::User) at the end of the run, in
// source order (each error followed by its notes), so a caller sees every error of the run at
// once whichever phase found it. After `errorLimit` errors the
// engine stops recording and says so; the parser and sema poll limitReached() to stop early,
// which bounds the work done on garbage input.
#pragma once

#include "compiler/frontend/SourceLocation.h"
#include "runtime/Error.h"

#include <string>
#include <string_view>
#include <vector>

namespace rnnc::frontend {

class DiagnosticEngine {
public:
  DiagnosticEngine(std::string_view source, std::string filename, unsigned errorLimit = 20);

  void error(ast::SourceLocation loc, const std::string &message);
  /// Extra information attached to the previous error (dropped with it past the limit).
  void note(ast::SourceLocation loc, const std::string &message);

  bool hasErrors() const { return errorCount_ > 0; }
  unsigned errorCount() const { return errorCount_; }
  bool limitReached() const { return errorCount_ >= errorLimit_; }

  /// Everything reported so far, as one user error.
  Error takeError();

private:
  std::string format(ast::SourceLocation loc, const char *severity,
                     const std::string &message) const;

  /// One error and its notes, already formatted.
  struct Report {
    uint32_t offset;
    std::string text;
  };

  std::string_view source_;
  std::string filename_;
  unsigned errorLimit_;
  unsigned errorCount_ = 0;
  bool lastErrorDropped_ = false;
  std::vector<Report> reports_;
};

/// A token or name quoted for a message, shortened when it is very long (a 10 MB identifier
/// must not produce a 10 MB message).
std::string quoteForMessage(std::string_view text);

} // namespace rnnc::frontend
