// The message of a run-time error a compiled kernel recorded (KernelABI.h): word for word the
// reference interpreter's message for the same op (ir/InterpretOps.cpp, ir/InterpretExample.cpp).
// One definition for every host: the JIT and AOT backends (compiler/backend/KernelRunner.h) and C
// programs calling an ahead-of-time compiled model (rnnc_rt_error_message, AotABI.h).
#pragma once

#include "runtime/KernelABI.h"

#include <optional>
#include <string>

namespace rnnc {

/// The message for `error` of the op the code generator describes as `where` ("'sample' at
/// model.rnn:17:3"), whose time axis is `axis`; nullopt for an unknown error code.
std::optional<std::string> kernelErrorMessage(const KernelError &error, const std::string &where,
                                              const std::string &axis);

} // namespace rnnc
