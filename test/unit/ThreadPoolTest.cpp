// runtime/ThreadPool.h: every part of every run runs exactly once, run returns only after all
// of them, a worker that sleeps or is slow to wake never holds up or repeats a part, and pools
// with more threads than cores (a busy machine) still finish every run.
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace rnnc {
namespace {

/// Runs `runs` runs of `pool` in which each part counts itself; checks every count.
void expectEachPartOncePerRun(ThreadPool &pool, int runs) {
  std::vector<std::atomic<int>> counts(static_cast<size_t>(pool.size()));
  for (int run = 0; run < runs; ++run) {
    pool.run([&](int part) { counts[static_cast<size_t>(part)].fetch_add(1); });
    for (int part = 0; part < pool.size(); ++part)
      ASSERT_EQ(counts[static_cast<size_t>(part)].load(), run + 1)
          << "part " << part << " after run " << run;
  }
}

TEST(ThreadPoolTest, EveryPartRunsOncePerRun) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    expectEachPartOncePerRun(pool, 20000);
  }
}

TEST(ThreadPoolTest, RunReturnsAfterEveryPart) {
  ThreadPool pool(3);
  for (int run = 0; run < 50; ++run) {
    std::vector<std::atomic<bool>> done(3);
    pool.run([&](int part) {
      std::this_thread::sleep_for(std::chrono::microseconds(200 * part));
      done[static_cast<size_t>(part)].store(true);
    });
    for (int part = 0; part < 3; ++part)
      ASSERT_TRUE(done[static_cast<size_t>(part)].load()) << "part " << part << " run " << run;
  }
}

TEST(ThreadPoolTest, SleepingWorkersAreWokenOrTheirPartsTaken) {
  // Past the workers' polling they sleep; the next run must still run every part once, whether
  // a woken worker or the caller runs it.
  ThreadPool pool(2);
  for (int round = 0; round < 20; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    expectEachPartOncePerRun(pool, 3);
  }
}

TEST(ThreadPoolTest, MoreThreadsThanCoresFinishEveryRun) {
  // Eight threads on a machine of two cores, with a competing thread busy all the while: workers
  // are descheduled for whole time slices, and runs must neither hang nor repeat a part.
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  ThreadPool pool(8);
  expectEachPartOncePerRun(pool, 2000);
  stop.store(true);
  busy.join();
}

} // namespace
} // namespace rnnc
