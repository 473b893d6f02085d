// Writing a file so that a crash at any moment (a killed process, a power cut) leaves either the
// old file or the new one at its path, never a part of one: checkpoints, parameters, logs.
#pragma once

#include "runtime/Error.h"

#include <string>
#include <string_view>

namespace rnnc {

/// Writes `contents` to a fresh temporary file in the directory of `path`, flushes it to disk
/// (fsync), renames it over `path` and flushes the directory, so that the rename itself is on
/// disk when this returns. On failure `path` is untouched and the temporary file is removed; the
/// error reads "<path>: cannot write: <reason>". A process killed during the write leaves its
/// temporary file (".<name>.tmp<pid>-<n>") beside `path`, which nothing reads.
Status writeFileAtomically(const std::string &path, std::string_view contents);

} // namespace rnnc
