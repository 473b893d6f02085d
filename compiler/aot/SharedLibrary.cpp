// SharedLibrary (SharedLibrary.h): posix_spawnp of the C compiler with its output captured in a
// file of the temporary directory, then dlopen with RTLD_NOW so an unresolved symbol is an error
// here rather than a crash in a kernel.
#include "compiler/aot/SharedLibrary.h"

#include "runtime/KernelABI.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

extern char **environ;

namespace rnnc::aot {

namespace {

namespace fs = std::filesystem;

bool isExecutable(const fs::path &path) { return ::access(path.c_str(), X_OK) == 0; }

/// `program` itself when it names a path, else the first executable of that name on PATH.
std::optional<std::string> findProgram(const std::string &program) {
  if (program.find('/') != std::string::npos)
    return isExecutable(program) ? std::optional(program) : std::nullopt;
  const char *path = std::getenv("PATH");
  std::stringstream directories(path ? path : "/usr/bin:/bin");
  for (std::string directory; std::getline(directories, directory, ':');)
    if (!directory.empty() && isExecutable(fs::path(directory) / program))
      return (fs::path(directory) / program).string();
  return std::nullopt;
}

/// A fresh directory below $TMPDIR (or /tmp), removed with everything in it on destruction.
class TemporaryDirectory {
public:
  static Expected<TemporaryDirectory> create() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern = (fs::path(base && *base ? base : "/tmp") / "rnnc-aot-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!::mkdtemp(buffer.data()))
      return Error::user("cannot create a temporary directory from '" + pattern +
                         "': " + std::strerror(errno));
    return TemporaryDirectory(buffer.data());
  }
  TemporaryDirectory(TemporaryDirectory &&other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    if (!path_.empty())
      fs::remove_all(path_, ignored);
  }
  const fs::path &path() const { return path_; }

private:
  explicit TemporaryDirectory(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

std::string readText(const fs::path &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Runs `command` with standard output and error going to `log`; its exit status, or an error.
Expected<int> runCommand(const std::vector<std::string> &command, const fs::path &log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char *> argv;
  for (const std::string &word : command)
    argv.push_back(const_cast<char *>(word.c_str()));
  argv.push_back(nullptr);
  pid_t child = 0;
  int spawned = ::posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0)
    return Error::user("cannot run the C compiler '" + command[0] +
                       "': " + std::strerror(spawned));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      return Error::user("cannot wait for the C compiler: " + std::string(std::strerror(errno)));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string joined(const std::vector<std::string> &words) {
  std::string text;
  for (const std::string &word : words)
    text += (text.empty() ? "" : " ") + word;
  return text;
}

} // namespace

Status checkRuntimeExported() {
  // Referencing the runtime's symbol table links its definitions into every program that links
  // kernels; the dynamic list then exports them.
  (void)runtimeSymbols();
  if (!::dlsym(RTLD_DEFAULT, "rnnc_rt_fail"))
    return Error::internal("this program does not export the rnnc_rt_ functions that linked "
                           "kernels call (link it with rnnc_aot, which adds RuntimeExports.list)");
  return Status::ok();
}

Expected<std::vector<std::string>> cCompilerCommand() {
  const char *fromEnvironment = std::getenv("CC");
  std::vector<std::string> command;
  std::stringstream words(fromEnvironment && *fromEnvironment ? fromEnvironment : "cc");
  for (std::string word; words >> word;)
    command.push_back(word);
  if (command.empty())
    command.push_back("cc");
  auto program = findProgram(command[0]);
  if (!program)
    return Error::user("the aot backend links kernels with a C compiler, but '" + command[0] +
                       "' " +
                       (fromEnvironment && *fromEnvironment ? "(from CC) is not an executable"
                                                            : "is not on PATH") +
                       " (install one, e.g. gcc, or set CC)");
  command[0] = *program;
  return command;
}

Expected<std::unique_ptr<SharedLibrary>> SharedLibrary::link(const std::string &objectBytes) {
  if (Status exported = checkRuntimeExported(); !exported)
    return exported.takeError();
  auto compiler = cCompilerCommand();
  if (!compiler)
    return compiler.takeError();
  auto directory = TemporaryDirectory::create();
  if (!directory)
    return directory.takeError();
  fs::path object = directory->path() / "kernels.o", library = directory->path() / "kernels.so",
           log = directory->path() / "link.log";
  {
    std::ofstream out(object, std::ios::binary);
    if (!(out << objectBytes) || !(out.flush()))
      return Error::user("cannot write '" + object.string() + "'");
  }
  std::vector<std::string> command = *compiler;
  for (const char *argument : {"-shared", "-o"})
    command.push_back(argument);
  command.push_back(library.string());
  command.push_back(object.string());
  command.push_back("-lm");
  auto status = runCommand(command, log);
  if (!status)
    return status.takeError();
  if (*status != 0)
    return Error::user("linking the kernels failed (`" + joined(command) + "` exited with " +
                       std::to_string(*status) + "):\n" + readText(log));
  void *handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *problem = ::dlerror();
    return Error::user("cannot load the linked kernels: " +
                       std::string(problem ? problem : "unknown dlopen error"));
  }
  return std::unique_ptr<SharedLibrary>(new SharedLibrary(handle));
}

SharedLibrary::~SharedLibrary() { ::dlclose(handle_); }

void *SharedLibrary::symbol(const std::string &name) const { return ::dlsym(handle_, name.c_str()); }

} // namespace rnnc::aot
