#include "runtime/Tensor.h"

#include <algorithm>
#include <limits>

namespace rnnc {

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return 4;
  case DType::F64:
    return 8;
  case DType::I32:
    return 4;
  }
  return 0;
}

std::string_view dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F64:
    return "F64";
  case DType::I32:
    return "I32";
  }
  return "?";
}

std::optional<DType> parseDType(std::string_view name) {
  for (DType dtype : {DType::F32, DType::F64, DType::I32})
    if (name == dtypeName(dtype))
      return dtype;
  return std::nullopt;
}

bool isFloatingPoint(DType dtype) { return dtype == DType::F32 || dtype == DType::F64; }

std::optional<int64_t> elementCount(const std::vector<int64_t> &shape) {
  // The byte size of the widest dtype must fit as well, so callers can multiply freely.
  constexpr int64_t maxElements = std::numeric_limits<int64_t>::max() / 8;
  int64_t count = 1;
  for (int64_t extent : shape) {
    if (extent < 0)
      return std::nullopt;
    if (extent != 0 && count > maxElements / extent)
      return std::nullopt;
    count *= extent;
  }
  return count;
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

Tensor::Tensor(DType dtype, std::vector<int64_t> shape)
    : dtype_(dtype), shape_(std::move(shape)), numElements_(elementCount(shape_).value_or(0)),
      bytes_(size_t(numElements_) * dtypeSize(dtype)) {
  assert(elementCount(shape_) && "negative or overflowing tensor shape");
}

namespace {
template <typename From, typename To> void convertElements(const Tensor &from, Tensor &to) {
  std::span<const From> source = from.values<From>();
  std::transform(source.begin(), source.end(), to.data<To>(),
                 [](From value) { return static_cast<To>(value); });
}
} // namespace

Tensor Tensor::convert(DType dtype) const {
  if (dtype == dtype_)
    return *this;
  assert(isFloatingPoint(dtype) && isFloatingPoint(dtype_) && "unsupported dtype conversion");
  Tensor result(dtype, shape_);
  if (dtype_ == DType::F32 && dtype == DType::F64)
    convertElements<float, double>(*this, result);
  else if (dtype_ == DType::F64 && dtype == DType::F32)
    convertElements<double, float>(*this, result);
  return result;
}

} // namespace rnnc
