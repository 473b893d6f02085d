// Types of IR values. Every value is, per example, a real tensor of static shape (rank 0, 1 or
// 2: f32[], f32[128], f32[65,128]) or a token id with a static vocabulary (tok<65>). A value
// outside a scan may also be a sequence over a named time axis, written with a suffix:
// f32[128][t]. Sequence lengths are run-time values per example; shapes never are. An axis may
// also be the segment axis of another (`f32[128][t/4]`, see SegmentAxis).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rnnc::ir {

struct Type {
  enum class Kind { Real, Token };

  Kind kind = Kind::Real;
  std::vector<int64_t> shape; ///< Real only; empty for a scalar.
  int64_t vocab = 0;          ///< Token only: ids are in [0, vocab).
  std::string axis;           ///< Empty for a static value, else the time axis.

  static Type real(std::vector<int64_t> shape, std::string axis = {}) {
    return {Kind::Real, std::move(shape), 0, std::move(axis)};
  }
  static Type scalar() { return real({}); }
  static Type token(int64_t vocab, std::string axis = {}) {
    return {Kind::Token, {}, vocab, std::move(axis)};
  }

  bool isReal() const { return kind == Kind::Real; }
  bool isToken() const { return kind == Kind::Token; }
  bool isSequence() const { return !axis.empty(); }
  bool isScalar() const { return isReal() && shape.empty(); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t numElements() const;

  /// The same type, one step of it (no axis) or over an axis.
  Type stepType() const;
  Type sequenceOver(const std::string &timeAxis) const;

  /// "f32[128]", "tok<65>", "f32[65][t]".
  std::string str() const;
  friend bool operator==(const Type &, const Type &) = default;
};

/// "[128, 65]", as used in diagnostics.
std::string shapeString(const std::vector<int64_t> &shape);

/// Segment axes (checkpointing, docs/ir.md "Segments"): `t/4` is the axis whose steps are the
/// segments of 4 consecutive steps of `t`, counted from where the scan that makes or reads them
/// starts; an example with L steps on `t` has ceil(L / 4) on `t/4`. Only the compiler makes them.
struct SegmentAxis {
  std::string base; ///< "t"
  int64_t factor;   ///< 4 (>= 1)
};
/// "t/4".
std::string segmentAxisName(const std::string &base, int64_t factor);
/// The parts of a segment axis name; nullopt for a plain axis ("t").
std::optional<SegmentAxis> parseSegmentAxis(const std::string &axis);

} // namespace rnnc::ir
