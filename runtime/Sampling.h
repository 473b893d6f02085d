// Drawing a token from a probability vector: the one definition shared by the reference
// interpreter and the compiled kernels' runtime, so both draw the same tokens from the same
// probabilities and generator state. Probabilities are widened to double, one uniform01() is
// used per draw, and the token is the first index whose cumulative probability exceeds u * sum.
#pragma once

#include "runtime/Init.h"

#include <cmath>
#include <cstdint>

namespace rnnc {

struct TokenDraw {
  enum class Problem { None, BadProbability, ZeroSum };
  int64_t token = 0;
  Problem problem = Problem::None;
  /// BadProbability: the index and value of the first negative or non-finite entry.
  int64_t badIndex = 0;
  double badValue = 0;
};

/// A draw from the distribution proportional to probabilities[0 .. count); no draw (and no use
/// of `rng`) when the probabilities are not a distribution.
template <typename Real> TokenDraw drawToken(const Real *probabilities, int64_t count, Rng &rng) {
  TokenDraw draw;
  double total = 0;
  for (int64_t i = 0; i < count; ++i) {
    double p = static_cast<double>(probabilities[i]);
    if (!std::isfinite(p) || p < 0) {
      draw.problem = TokenDraw::Problem::BadProbability;
      draw.badIndex = i;
      draw.badValue = p;
      return draw;
    }
    total += p;
  }
  if (total <= 0) {
    draw.problem = TokenDraw::Problem::ZeroSum;
    return draw;
  }
  double threshold = rng.uniform01() * total, cumulative = 0;
  for (int64_t i = 0; i < count; ++i) {
    double p = static_cast<double>(probabilities[i]);
    cumulative += p;
    if (p > 0) {
      draw.token = i;
      if (threshold < cumulative)
        return draw;
    }
  }
  // Rounding left the threshold at or past the final cumulative sum: the last positive entry.
  return draw;
}

} // namespace rnnc
