// Choosing a product's blocking (Product.h) by measurement on the host, the first time a shape
// is seen (the way ATLAS and FFTW choose by timing): the blocking productBlocking's rules give
// and a few others (the reduction unblocked or in longer blocks, row blocks four times smaller
// or larger) take turns on the first calls of each shape, each timed kTrialsPerCandidate times;
// from then on the fastest one runs. Every blocking computes the same bits (the invariant of
// Product.h), so tuning changes only the speed, never a result.
//
// In-process only: a process tunes each shape once (a training run calls the same shapes
// thousands of times). RNNC_PRODUCT_TUNING=0 in the environment turns it off (the rules'
// blocking always), for comparisons.
#pragma once

#include "runtime/Product.h"

#include <cstdint>
#include <map>
#include <mutex>
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

  /// The process's tuner, used by runProduct; null when RNNC_PRODUCT_TUNING=0.
  static ProductTuner *process();

private:
  struct Shape {
    std::vector<ProductBlocking> candidates;
    std::vector<double> fastest; ///< Per candidate: its fastest trial (seconds).
    std::vector<int> trials;     ///< Per candidate.
    int next = 0;                ///< The next candidate to try, round robin.
    int chosen = -1;             ///< Once every candidate has its trials.
  };
  mutable std::mutex mutex_;
  std::map<ProductShapeKey, Shape> shapes_;
};

} // namespace rnnc
