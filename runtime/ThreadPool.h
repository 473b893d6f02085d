// A small fixed-size pool of threads for the kernels' parallel loops (products and per-example
// parts). `run(task)` calls task(part) once for every part 0 … size()-1 and returns when all
// have returned. Work is split by the caller's own deterministic rule (a static partition by
// part number), never by which thread is free first, so the results of a kernel do not depend
// on scheduling.
//
// Part p is meant for thread p (the caller is thread 0), so a thread keeps its slice of the
// weights in its caches across the steps of a scan. But a thread that has finished its own part
// takes any part that no thread has started yet: on a busy machine, where a worker may not run
// for milliseconds, the caller does that worker's part itself instead of waiting for it. A part
// is claimed once per run (a compare-and-swap on the part's generation), so it runs exactly once
// whoever runs it, with the same result.
//
// Waiting is bounded: workers poll for a new run for a few tens of microseconds (a recurrent
// kernel hands out one small run per step, and a sleeping thread takes tens of microseconds to
// wake) and then sleep on a condition variable; the caller, waiting for parts another thread
// has started, polls as long and then yields its core between polls.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
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
  /// Runs task(0 .. size()-1), one call per part; returns when every call has returned.
  void run(const std::function<void(int)> &task);

private:
  void work(int worker);
  /// Runs part `first` if unclaimed in run `generation`, then every other unclaimed part.
  void takeParts(int first, uint64_t generation);

  std::vector<std::thread> workers_;
  /// Per part: the last run (generation) in which it was claimed.
  std::unique_ptr<std::atomic<uint64_t>[]> claimed_;
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
