// Linked into every unit-test binary: points the JIT's compile cache (compiler/jit/CompileCache.h)
// at the build tree before main() runs, so no test — under ctest or run by hand — ever writes
// into the real home, and no test reads kernels a previous build left in it.
#include <cstdlib>

namespace {

const bool cacheUnderBuildTree = [] {
  ::setenv("XDG_CACHE_HOME", RNNC_BINARY_DIR "/test/cache", /*overwrite=*/1);
  return true;
}();

} // namespace
