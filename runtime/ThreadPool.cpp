// ThreadPool (ThreadPool.h): a generation counter announces each task; workers spin on it for a
// while, then sleep on a condition variable. The task pointer is written before the counter is
// incremented (release) and read after it is seen (acquire).
#include "runtime/ThreadPool.h"

#include <algorithm>

namespace rnnc {

namespace {
/// Polls of the generation counter before a worker goes to sleep (tens of microseconds).
constexpr int kSpinPolls = 20000;
} // namespace

ThreadPool::ThreadPool(int threads) {
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

void ThreadPool::run(const std::function<void(int)> &task) {
  if (workers_.empty()) {
    task(0);
    return;
  }
  task_ = &task;
  finished_.store(0, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  task(0);
  int expected = static_cast<int>(workers_.size());
  while (finished_.load(std::memory_order_acquire) != expected)
    std::this_thread::yield();
  task_ = nullptr;
}

void ThreadPool::work(int worker) {
  uint64_t seen = 0;
  while (true) {
    uint64_t now = generation_.load(std::memory_order_acquire);
    for (int poll = 0; now == seen && poll < kSpinPolls; ++poll) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
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
    (*task_)(worker);
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

} // namespace rnnc
