// Whole-file reads and atomic writes (Files.h).
#include "runtime/Files.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rnnc {

namespace {

std::string errnoMessage() { return std::strerror(errno); }

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t count = ::write(fd, bytes.data(), bytes.size());
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0)
      return false;
    bytes.remove_prefix(size_t(count));
  }
  return true;
}

/// Creates a fresh temporary file next to `path` (so the final rename stays on one file system)
/// with the default permissions of a new file; returns its descriptor and sets `tempPath`.
int createTemporaryFile(const std::string &path, std::string &tempPath) {
  static std::atomic<unsigned> counter{0};
  std::filesystem::path target(path);
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = ".";
    name += target.filename().string();
    name += ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    tempPath = (target.parent_path() / name).string();
    int fd = ::open(tempPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  return -1;
}

/// Flushes the directory holding `path`, which makes a rename into it durable. A file system
/// that cannot sync a directory (EINVAL) has nothing to flush.
bool syncDirectoryOf(const std::string &path) {
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty())
    directory = ".";
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool synced = ::fsync(fd) == 0 || errno == EINVAL;
  int savedErrno = errno;
  ::close(fd);
  errno = savedErrno;
  return synced;
}

} // namespace

Expected<std::string> readWholeFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Error::user(path + ": cannot open: " + errnoMessage());
  std::string contents;
  struct stat info;
  if (::fstat(fd, &info) == 0 && info.st_size > 0)
    contents.reserve(size_t(info.st_size));
  char buffer[1 << 16];
  while (true) {
    ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0) {
      Error error = Error::user(path + ": cannot read: " + errnoMessage());
      ::close(fd);
      return error;
    }
    if (count == 0)
      break;
    contents.append(buffer, size_t(count));
  }
  ::close(fd);
  return contents;
}

Status writeFileAtomically(const std::string &path, std::string_view bytes) {
  std::string tempPath;
  int fd = createTemporaryFile(path, tempPath);
  if (fd < 0)
    return Error::user(path + ": cannot create a temporary file: " + errnoMessage());
  auto fail = [&](const std::string &reason) {
    ::unlink(tempPath.c_str());
    return Error::user(path + ": cannot write: " + reason);
  };
  // fsync before rename: otherwise a crash could leave `path` naming a file whose data never
  // reached the disk.
  if (!writeAll(fd, bytes) || ::fsync(fd) != 0) {
    std::string reason = errnoMessage();
    ::close(fd);
    return fail(reason);
  }
  if (::close(fd) != 0)
    return fail(errnoMessage());
  if (::rename(tempPath.c_str(), path.c_str()) != 0)
    return fail(errnoMessage());
  // The new file is in place; until the directory is flushed a crash could still bring back
  // the old one, so success waits for it.
  if (!syncDirectoryOf(path))
    return Error::user(path + ": cannot write: syncing its directory: " + errnoMessage());
  return Status::ok();
}

} // namespace rnnc
