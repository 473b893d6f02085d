// ThreadPool (ThreadPool.h). A run is announced by incrementing the generation counter after
// the task pointer is written (release); a thread reads the task only after it has claimed a
// part of the generation it saw (acquire), so a worker that wakes after its run has ended finds
// every part claimed and never reads a task that is gone. A run ends when `finished_` counts
// every part; parts are claimed with a compare-and-swap from the previous generation, and every
// part of every run is claimed, so each part's counter is exactly the previous generation when
// a run starts.
#include "runtime/ThreadPool.h"

#include <algorithm>

namespace rnnc {

namespace {
/// Polls before a worker goes to sleep, or before the waiting caller starts yielding its core
/// (tens of microseconds).
constexpr int kSpinPolls = 20000;

void pause() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}
} // namespace

ThreadPool::ThreadPool(int threads)
    : claimed_(new std::atomic<uint64_t>[static_cast<size_t>(std::max(threads, 1))]) {
  for (int part = 0; part < std::max(threads, 1); ++part)
    claimed_[part].store(0, std::memory_order_relaxed);
  for (int worker = 1; worker < std::max(threads, 1); ++worker)
    workers_.emplace_back([this, worker] { work(worker); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  for (std::thread &worker : workers_)
    worker.join();
}

void ThreadPool::takeParts(int first, uint64_t generation) {
  int parts = size();
  for (int i = 0; i < parts; ++i) {
    int part = (first + i) % parts;
    uint64_t previous = generation - 1;
    if (!claimed_[part].compare_exchange_strong(previous, generation, std::memory_order_acq_rel))
      continue;
    (*task_)(part);
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(const std::function<void(int)> &task) {
  if (workers_.empty()) {
    task(0);
    return;
  }
  task_ = &task;
  finished_.store(0, std::memory_order_relaxed);
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
  }
  wake_.notify_all();
  takeParts(0, generation);
  // What is left are parts other threads are running.
  for (int poll = 0; finished_.load(std::memory_order_acquire) != size(); ++poll) {
    if (poll < kSpinPolls)
      pause();
    else
      std::this_thread::yield();
  }
  task_ = nullptr;
}

void ThreadPool::work(int worker) {
  uint64_t seen = 0;
  while (true) {
    uint64_t now = generation_.load(std::memory_order_acquire);
    for (int poll = 0; now == seen && poll < kSpinPolls; ++poll) {
      pause();
      now = generation_.load(std::memory_order_acquire);
    }
    if (now == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      now = generation_.load(std::memory_order_acquire);
    }
    seen = now;
    if (stopping_.load(std::memory_order_acquire))
      return;
    takeParts(worker, now);
  }
}

} // namespace rnnc
