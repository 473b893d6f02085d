// Choosing a product's blocking (Product.h) by measurement on the host, the first time a shape
// is seen (the way ATLAS and FFTW choose by timing). The blocking productBlocking's rules give
// and a few others (row blocks four times larger or smaller, the reduction in blocks that keep
// a tile's panels in L1 or in two halves) take turns on the first calls of each shape, once
// each; the candidates within kCloseEnough of the fastest of that round take turns again until
// each has had kTrialsPerCandidate trials (the others are dropped, so a slow candidate costs one
// call); from then on the fastest trial's blocking runs. Every blocking computes the same bits
// (the invariant of Product.h), so tuning changes only the speed, never a result. A shape is
// tuned within kMaxTrialCalls calls.
//
// A process tunes each shape once (a training run calls the same shapes thousands of times).
// With a wisdom file (useWisdomFile; the JIT keeps one per host CPU beside its compile cache,
// JitCompiler.h) the choices outlive the process, the way FFTW's wisdom does: a shape the file
// holds runs its blocking from the first call, and every shape tuned here is added to the file.
// RNNC_PRODUCT_TUNING=0 in the environment turns tuning off (the rules' blocking always), for
// comparisons.
//
// Wisdom file: the line "rnnc-product-wisdom 1", then one line per tuned shape of eleven
// integers: the ProductShapeKey (isa elementBytes rows m k transposedX threads), then the
// blocking (tile rows, tile panels, reduction, rowBlockTiles). A file that cannot be read or
// parsed is ignored, and a blocking that is not one of its shape's candidates (another version
// of the rules) is not used; the wisdom is an optimisation, so none of this is an error.
#pragma once

#include "runtime/Product.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace rnnc {

/// What identifies a product for tuning: the instruction set, element size, sizes, whether x is
/// read down its columns, and the threads it is split over.
struct ProductShapeKey {
  int64_t isa, elementBytes, rows, m, k, transposedX, threads;
  auto tied() const { return std::tie(isa, elementBytes, rows, m, k, transposedX, threads); }
  bool operator<(const ProductShapeKey &other) const { return tied() < other.tied(); }
};

class ProductTuner {
public:
  static constexpr int kTrialsPerCandidate = 3;
  /// A candidate more than this much slower than the fastest in the first round is dropped.
  static constexpr double kCloseEnough = 1.25;
  /// The most calls a shape's tuning takes (5 candidates).
  static constexpr int kMaxTrialCalls = 5 * kTrialsPerCandidate;
  /// Products of fewer multiply-adds run with the rules' blocking: their time is too short to
  /// measure against the clock's own cost, and the caches hold them whatever the blocking.
  static constexpr int64_t kMinimumWork = int64_t(1) << 20;

  /// The blockings tried for a product whose rules give `rules`.
  static std::vector<ProductBlocking> candidates(const ProductBlocking &rules, int64_t k);

  struct Choice {
    ProductBlocking blocking;
    int candidate = -1; ///< The candidate on trial, whose time record() takes; -1: tuned.
  };
  /// The blocking to run the product of `key` with now (`rules`: productBlocking's).
  Choice choose(const ProductShapeKey &key, const ProductBlocking &rules);
  /// The time a trial of choose()'s candidate took.
  void record(const ProductShapeKey &key, int candidate, double seconds);
  /// The tuned blocking of `key`, if every candidate has had its trials (tests, reports).
  const ProductBlocking *tuned(const ProductShapeKey &key) const;

  /// How many shapes seen so far still have candidates on trial (a benchmark runs untimed calls
  /// until none has: `rnnc bench`).
  int64_t shapesOnTrial() const;

  /// Reads the shapes tuned in `path` (see the file comment) and from now on adds each shape
  /// tuned here to it: the file is read again, merged and written to a temporary file renamed
  /// over it, so processes sharing it never read half a file (when two add shapes at once, one's
  /// may be lost: it is tuned again later). Does nothing when `path` is already in use.
  void useWisdomFile(const std::string &path);

  /// The process's tuner, used by runProduct; null when RNNC_PRODUCT_TUNING=0.
  static ProductTuner *process();

private:
  struct Shape {
    std::vector<ProductBlocking> candidates;
    std::vector<double> fastest; ///< Per candidate: its fastest trial (seconds).
    std::vector<int> trials;     ///< Per candidate.
    std::vector<bool> dropped;   ///< Per candidate: too slow in the first round.
    bool firstRoundDone = false; ///< Every candidate has had a trial (and `dropped` is set).
    int next = 0;                ///< The next candidate to try, round robin over the others.
    int chosen = -1;             ///< Once every candidate has its trials.
  };
  /// record() under the lock: whether the shape got its choice now and there is a file to add
  /// it to.
  bool recordTrial(const ProductShapeKey &key, int candidate, double seconds);
  void saveWisdom(); // with mutex_ not held

  mutable std::mutex mutex_;
  std::map<ProductShapeKey, Shape> shapes_;
  std::map<ProductShapeKey, ProductBlocking> wisdom_; ///< Tuned here or read from the file.
  std::string wisdomPath_;                            ///< Empty: no wisdom file.
};

} // namespace rnnc
