// An object file linked into a shared library by the system C compiler (`$CC -shared`, default
// `cc`) in a temporary directory, and loaded into the process with dlopen — how the `aot`
// backend runs the object `rnnc compile --emit=obj` writes. The library's undefined `rnnc_rt_`
// symbols resolve to the running executable's runtime, which exports them (RuntimeExports.list).
// The temporary directory is removed once the library is loaded; the library stays loaded as long
// as the SharedLibrary lives.
#pragma once

#include "runtime/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace rnnc::aot {

class SharedLibrary {
public:
  /// Links `objectBytes` (an ELF object) and loads it. No C compiler, a failed link (with the
  /// compiler's messages) or a failed load are user errors.
  static Expected<std::unique_ptr<SharedLibrary>> link(const std::string &objectBytes);
  ~SharedLibrary();
  SharedLibrary(const SharedLibrary &) = delete;
  SharedLibrary &operator=(const SharedLibrary &) = delete;

  /// The address of `name` in the library, or nullptr.
  void *symbol(const std::string &name) const;

private:
  explicit SharedLibrary(void *handle) : handle_(handle) {}
  void *handle_;
};

/// Checks that this executable exports the runtime's `rnnc_rt_` functions, which linked kernels
/// call (link it with rnnc_aot, which adds RuntimeExports.list); an internal error if not.
Status checkRuntimeExported();

/// The C compiler command ($CC split at spaces, else `cc`), its program found on PATH; a user
/// error when there is none.
Expected<std::vector<std::string>> cCompilerCommand();

} // namespace rnnc::aot
