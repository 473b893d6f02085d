// Tensor: construction, sizes, typed access, conversion, shape helpers.
#include "runtime/Tensor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace rnnc {
namespace {

TEST(RuntimeTensorTest, ConstructionIsZeroFilled) {
  Tensor tensor(DType::F64, {2, 3});
  EXPECT_EQ(tensor.dtype(), DType::F64);
  EXPECT_EQ(tensor.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tensor.rank(), 2);
  EXPECT_EQ(tensor.numElements(), 6);
  EXPECT_EQ(tensor.byteSize(), 48u);
  for (double value : tensor.values<double>())
    EXPECT_EQ(value, 0.0);
}

TEST(RuntimeTensorTest, ScalarAndEmptyShapes) {
  Tensor scalar(DType::I32, {});
  EXPECT_EQ(scalar.numElements(), 1);
  EXPECT_EQ(scalar.byteSize(), 4u);
  Tensor empty(DType::F32, {0, 5});
  EXPECT_EQ(empty.numElements(), 0);
  EXPECT_EQ(empty.byteSize(), 0u);
}

TEST(RuntimeTensorTest, StorageIsCacheLineAligned) {
  Tensor tensor(DType::F32, {7});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor.bytes()) % 64, 0u);
}

TEST(RuntimeTensorTest, FromValuesIsRowMajor) {
  Tensor tensor = Tensor::fromValues<int32_t>({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(tensor.dtype(), DType::I32);
  EXPECT_EQ(tensor.data<int32_t>()[1], 2);
  EXPECT_EQ(tensor.data<int32_t>()[2], 3);
}

TEST(RuntimeTensorTest, CopiesAreIndependent) {
  Tensor original = Tensor::fromValues<float>({2}, {1.0f, 2.0f});
  Tensor copy = original;
  copy.data<float>()[0] = 5.0f;
  EXPECT_EQ(original.data<float>()[0], 1.0f);
  EXPECT_NE(original, copy);
}

TEST(RuntimeTensorTest, ConvertBetweenF32AndF64) {
  Tensor single = Tensor::fromValues<float>({3}, {0.5f, -1.25f, 3.0f});
  Tensor wide = single.convert(DType::F64);
  EXPECT_EQ(wide.dtype(), DType::F64);
  EXPECT_EQ(wide.shape(), single.shape());
  EXPECT_EQ(wide.data<double>()[1], -1.25);
  EXPECT_EQ(wide.convert(DType::F32), single);

  Tensor rounded = Tensor::fromValues<double>({1}, {0.1}).convert(DType::F32);
  EXPECT_EQ(rounded.data<float>()[0], 0.1f);
  EXPECT_EQ(single.convert(DType::F32), single);
}

TEST(RuntimeTensorTest, DTypeNames) {
  for (DType dtype : {DType::F32, DType::F64, DType::I32})
    EXPECT_EQ(parseDType(dtypeName(dtype)), dtype);
  EXPECT_EQ(parseDType("F16"), std::nullopt);
  EXPECT_EQ(parseDType("f32"), std::nullopt);
  EXPECT_EQ(dtypeSize(DType::F64), 8u);
  EXPECT_TRUE(isFloatingPoint(DType::F32));
  EXPECT_FALSE(isFloatingPoint(DType::I32));
}

TEST(RuntimeTensorTest, ElementCountRejectsNegativeAndOverflow) {
  EXPECT_EQ(elementCount({}), 1);
  EXPECT_EQ(elementCount({4, 0, 3}), 0);
  EXPECT_EQ(elementCount({4, -1}), std::nullopt);
  EXPECT_EQ(elementCount({int64_t(1) << 32, int64_t(1) << 32}), std::nullopt);
  EXPECT_EQ(elementCount({std::numeric_limits<int64_t>::max() / 8}),
            std::numeric_limits<int64_t>::max() / 8);
  EXPECT_EQ(elementCount({std::numeric_limits<int64_t>::max() / 8 + 1}), std::nullopt);
}

TEST(RuntimeTensorTest, FormatShape) {
  EXPECT_EQ(formatShape({}), "[]");
  EXPECT_EQ(formatShape({128, 64}), "[128, 64]");
}

} // namespace
} // namespace rnnc
