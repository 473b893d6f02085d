// What the fuzz targets (fuzz/*Fuzzer.cpp) share: the checks that turn a wrong answer into a
// finding. A user error is the right answer to bad input; an internal error, or a result that
// breaks a promise (a round trip, a verified lowering), is reported and aborts, so that libFuzzer
// saves the input (and the replay driver, ReplayMain.cpp, fails the ctest).
#pragma once

#include "runtime/Error.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace rnnc::fuzz {

[[noreturn]] inline void fail(const std::string &what) {
  std::fprintf(stderr, "rnnc fuzz finding: %s\n", what.c_str());
  std::abort();
}

inline void expectUserError(const Error &error, const char *stage) {
  if (error.kind != ErrorKind::User)
    fail(std::string(stage) + " returned an internal error: " + error.message);
}

inline void expectOk(const Status &status, const char *stage) {
  if (!status)
    fail(std::string(stage) + " failed: " + status.error().message);
}

} // namespace rnnc::fuzz
