// A small fixed-size pool of worker threads for the kernels' parallel loops (GEMMs today).
// `run(task)` calls task(worker) once on every thread of the pool, the caller being worker 0, and
// returns when all have finished. Work is split by the caller's own deterministic rule (a static
// partition by thread count), never by which thread is free first, so the results of a kernel do
// not depend on scheduling. Workers spin briefly between tasks (a recurrent kernel hands out one
// small task per step, and a sleeping thread takes tens of microseconds to wake) and then sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rnnc {

class ThreadPool {
public:
  /// A pool of `threads` threads in all, the caller included (threads - 1 workers); at least 1.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  /// Runs task(0 .. size()-1), one call per thread; returns when every call has returned.
  void run(const std::function<void(int)> &task);

private:
  void work(int worker);

  std::vector<std::thread> workers_;
  const std::function<void(int)> *task_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> finished_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

/// The range [begin, end) of `count` items that part `part` of `parts` takes: contiguous, in
/// order, sizes differing by at most one.
inline void partitionRange(int64_t count, int part, int parts, int64_t &begin, int64_t &end) {
  int64_t base = count / parts, extra = count % parts;
  begin = part * base + std::min<int64_t>(part, extra);
  end = begin + base + (part < extra ? 1 : 0);
}

} // namespace rnnc
