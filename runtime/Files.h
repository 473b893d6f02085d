// Whole files read and written with POSIX calls, so that every failure has an errno to report.
// Writes are atomic: the bytes go to a fresh temporary file in the target's directory (the rename
// stays on one file system), are flushed to disk, and the file is renamed over the target, so a
// reader (another process, or this one after a crash) sees the old file or the new one, never
// half of one. On failure the target is untouched and no temporary file remains.
#pragma once

#include "runtime/Error.h"

#include <string>
#include <string_view>

namespace rnnc {

/// The bytes of the file at `path`, or a user error "PATH: cannot open: REASON" (or read).
Expected<std::string> readWholeFile(const std::string &path);

/// Replaces the file at `path` with `bytes` atomically (see the file comment), or a user error
/// "PATH: cannot write: REASON" (or create a temporary file).
Status writeFileAtomically(const std::string &path, std::string_view bytes);

} // namespace rnnc
