// An owning, dense, row-major tensor of F32, F64 or I32 elements, and TensorMap, the set of named
// tensors that moves between the driver, the reference interpreter and safetensors files.
//
// A tensor is a value: copying copies the elements. Storage is 64-byte aligned so kernels may
// use aligned vector loads on the first element.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rnnc {

enum class DType { F32, F64, I32 };

/// Bytes per element.
size_t dtypeSize(DType dtype);
/// The safetensors spelling: "F32", "F64", "I32".
std::string_view dtypeName(DType dtype);
/// Inverse of dtypeName; nullopt for any other spelling.
std::optional<DType> parseDType(std::string_view name);
/// True for F32 and F64.
bool isFloatingPoint(DType dtype);

/// The DType of a C++ element type: dtypeOf<float>() == DType::F32.
template <typename T> constexpr DType dtypeOf();
template <> constexpr DType dtypeOf<float>() { return DType::F32; }
template <> constexpr DType dtypeOf<double>() { return DType::F64; }
template <> constexpr DType dtypeOf<int32_t>() { return DType::I32; }

/// Number of elements of `shape` (1 for a scalar, shape []), or nullopt if an entry is negative
/// or the count times 8 bytes would not fit in int64_t.
std::optional<int64_t> elementCount(const std::vector<int64_t> &shape);

/// "[128, 64]"; "[]" for a scalar.
std::string formatShape(const std::vector<int64_t> &shape);

namespace detail {
/// std::allocator with 64-byte alignment (one cache line, one AVX-512 register).
template <typename T> struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t alignment{64};

  CacheLineAllocator() = default;
  template <typename U> CacheLineAllocator(const CacheLineAllocator<U> &) {}

  T *allocate(size_t count) {
    return static_cast<T *>(::operator new(count * sizeof(T), alignment));
  }
  void deallocate(T *pointer, size_t) { ::operator delete(pointer, alignment); }
  bool operator==(const CacheLineAllocator &) const = default;
};
} // namespace detail

class Tensor {
public:
  /// A scalar F32 zero.
  Tensor() : Tensor(DType::F32, {}) {}
  /// Zero-filled. Precondition: elementCount(shape) has a value.
  Tensor(DType dtype, std::vector<int64_t> shape);

  /// A tensor holding `values` (row-major); values.size() must equal the element count.
  template <typename T>
  static Tensor fromValues(std::vector<int64_t> shape, std::span<const T> values);
  template <typename T>
  static Tensor fromValues(std::vector<int64_t> shape, std::initializer_list<T> values) {
    return fromValues<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
  }

  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numElements() const { return numElements_; }
  size_t byteSize() const { return bytes_.size(); }

  /// Typed access; T must match the dtype (checked by assert).
  template <typename T> T *data() {
    checkType<T>();
    return reinterpret_cast<T *>(bytes_.data());
  }
  template <typename T> const T *data() const {
    checkType<T>();
    return reinterpret_cast<const T *>(bytes_.data());
  }
  /// The elements as a span. Not on a temporary, whose elements would die with it.
  template <typename T> std::span<T> values() & { return {data<T>(), size_t(numElements_)}; }
  template <typename T> std::span<const T> values() const & {
    return {data<T>(), size_t(numElements_)};
  }
  template <typename T> std::span<const T> values() const && = delete;

  /// The raw little-endian element bytes.
  std::byte *bytes() { return bytes_.data(); }
  const std::byte *bytes() const { return bytes_.data(); }

  /// A copy with elements converted to `dtype`. Precondition: the dtypes are equal, or both are
  /// floating point (F32 <-> F64; F64 -> F32 rounds to nearest).
  Tensor convert(DType dtype) const;

  /// Same dtype, shape and bytes.
  bool operator==(const Tensor &other) const = default;

private:
  template <typename T> void checkType() const;

  DType dtype_;
  std::vector<int64_t> shape_;
  int64_t numElements_;
  std::vector<std::byte, detail::CacheLineAllocator<std::byte>> bytes_;
};

template <typename T> void Tensor::checkType() const {
  assert(dtype_ == dtypeOf<T>() && "Tensor::data<T>() with T not matching the dtype");
}

template <typename T>
Tensor Tensor::fromValues(std::vector<int64_t> shape, std::span<const T> values) {
  Tensor tensor(dtypeOf<T>(), std::move(shape));
  assert(values.size() == size_t(tensor.numElements()) && "value count does not match shape");
  if (!values.empty())
    std::memcpy(tensor.bytes(), values.data(), std::min(values.size_bytes(), tensor.byteSize()));
  return tensor;
}

/// Named tensors, ordered by name (the order they are written to files).
using TensorMap = std::map<std::string, Tensor>;

} // namespace rnnc
