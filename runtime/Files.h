// Whole files read and written with POSIX calls, so that every failure has an errno to report.
// Writes are atomic, so that a crash at any moment (a killed process, a power cut) leaves either
// the old file or the new one at its path, never a part of one (checkpoints, parameters, logs,
// the compile cache): the bytes go to a fresh temporary file in the target's directory (the
// rename stays on one file system), are flushed to disk (fsync), the file is renamed over the
// target and the directory flushed, so the rename itself is on disk when the write returns. On
// failure the target is untouched and the temporary file removed; a process killed during the
// write leaves its temporary file (".<name>.tmp<pid>-<n>") beside the target, which nothing
// reads.
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
