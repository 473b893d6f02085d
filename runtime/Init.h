// Seeded, deterministic parameter initialisers and the random number generator behind them.
//
// Results are identical on every platform and standard library: the generator (xoshiro256**,
// seeded through splitmix64) and the Gaussian transform (Box-Muller) are implemented here rather
// than taken from <random>, whose distributions differ between implementations. Each parameter
// draws from its own generator, seeded from (global seed, parameter name), so adding or removing
// one parameter leaves the values of all the others unchanged.
#pragma once

#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rnnc {

/// xoshiro256** (Blackman and Vigna): fast, 256 bits of state, passes BigCrush. Also used for
/// sampling during generation.
class Rng {
public:
  explicit Rng(uint64_t seed);

  uint64_t nextU64();
  /// Uniform in [0, 1), 53 random bits.
  double uniform01();
  /// Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal();

private:
  std::array<uint64_t, 4> state_;
  std::optional<double> spareNormal_;
};

/// The seed of parameter `name`'s generator: a hash of the name mixed into the global seed.
uint64_t parameterSeed(uint64_t globalSeed, std::string_view name);

enum class InitKind { Zeros, Ones, Uniform, Normal, Glorot, Orthogonal };

/// How to fill a parameter, as written in a model file (`= glorot`, `= normal(0.01)`).
struct Initializer {
  InitKind kind = InitKind::Zeros;
  /// The bound a of uniform(a) (values in [-a, a)); the standard deviation of normal(std).
  double scale = 0;
};

/// Fills the F32 or F64 tensor `tensor` from `rng`. `name` appears in errors, which are user
/// errors: orthogonal on a tensor of rank < 2, a negative or non-finite scale, an I32 tensor.
///   glorot: uniform in [-l, l), l = sqrt(6 / (fan_in + fan_out)); for [rows, cols, ...] fan_out
///     is rows * r and fan_in is cols * r, r the product of the remaining dims; a vector of n
///     elements (or a scalar, n = 1) uses fan_in = fan_out = n.
///   orthogonal: for [rows, cols...] viewed as a rows x C matrix, orthonormal columns if
///     rows >= C, else orthonormal rows (Householder QR of a Gaussian matrix, signs fixed so the
///     diagonal of R is positive).
Status initializeTensor(Tensor &tensor, const Initializer &init, Rng &rng, const std::string &name);

/// A new parameter of `dtype` and `shape`, filled by `init` from Rng(parameterSeed(globalSeed,
/// name)).
Expected<Tensor> makeParameter(const std::string &name, DType dtype,
                               const std::vector<int64_t> &shape, const Initializer &init,
                               uint64_t globalSeed);

} // namespace rnnc
