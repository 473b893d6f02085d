// safetensors reading and writing: round trips, the byte layout PyTorch expects, atomic writes,
// and the exact message of every validation error.
#include "runtime/Safetensors.h"

#include "runtime/Init.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace rnnc {
namespace {

/// A file: 8-byte little-endian length of `header`, `header`, then `data`.
std::string craft(const std::string &header, const std::string &data = "") {
  std::string bytes;
  for (int i = 0; i < 8; ++i)
    bytes += char((uint64_t(header.size()) >> (8 * i)) & 0xFF);
  return bytes + header + data;
}

std::string parseError(const std::string &bytes) {
  Expected<TensorMap> tensors = parseSafetensors(bytes, "m.safetensors");
  EXPECT_FALSE(tensors) << "parsed a bad buffer";
  if (tensors)
    return "";
  EXPECT_EQ(tensors.error().kind, ErrorKind::User);
  return tensors.error().message;
}

TensorMap sampleTensors() {
  TensorMap tensors;
  tensors["W"] = Tensor::fromValues<float>({2, 3}, {1, -2, 3.5f, 0, 1e-8f, -7});
  tensors["b"] = Tensor::fromValues<double>({3}, {0.1, -0.2, 1e300});
  tensors["x"] = Tensor::fromValues<int32_t>({2, 2}, {0, 64, -1, 2147483647});
  tensors["loss"] = Tensor::fromValues<float>({}, {2.5f});
  tensors["empty"] = Tensor(DType::F32, {0, 4});
  return tensors;
}

class SafetensorsFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("rnnc-safetensors-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string path(const std::string &name) const { return (directory_ / name).string(); }

  std::vector<std::string> directoryEntries() const {
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(directory_))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  void writeRaw(const std::string &name, const std::string &bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }

  std::filesystem::path directory_;
};

TEST(SafetensorsTest, RoundTripEveryDType) {
  TensorMap tensors = sampleTensors();
  SafetensorsMetadata metadata{{"format", "pt"}, {"note", "quote \" and caf\xC3\xA9"}};
  Expected<std::string> bytes = serializeSafetensors(tensors, metadata);
  ASSERT_TRUE(bytes) << bytes.error().message;

  SafetensorsMetadata readMetadata;
  Expected<TensorMap> read = parseSafetensors(*bytes, "memory", &readMetadata);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, tensors);
  EXPECT_EQ(readMetadata, metadata);
}

TEST(SafetensorsTest, EmptyFileRoundTrips) {
  Expected<std::string> bytes = serializeSafetensors({});
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, craft("{}      "));
  Expected<TensorMap> read = parseSafetensors(*bytes, "memory");
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->empty());
}

// The layout PyTorch's and the reference library's readers expect: header padded with spaces to
// a multiple of 8, entries by name with metadata first, offsets relative to the data start,
// tiling it exactly, and each tensor aligned to its element size (F64 data placed first).
TEST(SafetensorsTest, LayoutForPyTorch) {
  TensorMap tensors;
  tensors["c"] = Tensor::fromValues<int32_t>({2, 1}, {7, 8});
  tensors["b"] = Tensor::fromValues<float>({3}, {1, 2, 3});
  tensors["a"] = Tensor::fromValues<double>({1}, {4});
  Expected<std::string> bytes = serializeSafetensors(tensors, {{"format", "pt"}});
  ASSERT_TRUE(bytes);

  std::string header = R"({"__metadata__":{"format":"pt"},)"
                       R"("a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[3],"data_offsets":[8,20]},)"
                       R"("c":{"dtype":"I32","shape":[2,1],"data_offsets":[20,28]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  ASSERT_EQ(header.size() % 8, 0u);
  std::string data;
  for (const char *name : {"a", "b", "c"})
    data.append(reinterpret_cast<const char *>(tensors[name].bytes()), tensors[name].byteSize());
  EXPECT_EQ(*bytes, craft(header, data));
}

TEST(SafetensorsTest, ReadsForeignFileWithGapFreeUnsortedOffsetsAndUnknownFields) {
  // Entries in any order, extra whitespace, an unknown field (ignored, as the reference does).
  std::string data(12, '\0');
  data[0] = 1;
  data[8] = 2;
  std::string header = R"( {"y": {"shape": [1], "dtype": "I32", "data_offsets": [8, 12]},)"
                       R"( "z": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8], "x": 1}})";
  header[0] = '{';
  header[1] = ' ';
  Expected<TensorMap> read = parseSafetensors(craft(header, data), "foreign");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->at("y").data<int32_t>()[0], 2);
  EXPECT_EQ(read->at("z").dtype(), DType::F64);
}

TEST(SafetensorsTest, SerializeRejectsReservedAndInvalidNames) {
  TensorMap tensors;
  tensors["__metadata__"] = Tensor();
  Expected<std::string> bytes = serializeSafetensors(tensors);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().message,
            "cannot write a tensor named '__metadata__': the name is reserved");

  TensorMap badName;
  badName["\xFF"] = Tensor();
  bytes = serializeSafetensors(badName);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().message, "cannot write tensor '\xFF': name is not valid UTF-8");
}

TEST(SafetensorsTest, FileStructureErrors) {
  EXPECT_EQ(parseError("abc"),
            "m.safetensors: truncated file: 3 bytes, too short for the 8-byte header length");
  EXPECT_EQ(parseError(craft("{}").substr(0, 9)),
            "m.safetensors: header length 2 is larger than the rest of the file (1 bytes)");
  EXPECT_EQ(parseError(std::string(8, '\xFF')),
            "m.safetensors: header length 18446744073709551615 is larger than the rest of the "
            "file (0 bytes)");
  EXPECT_EQ(parseError(craft("")), "m.safetensors: bad JSON header: expected '{' at byte 0");
  EXPECT_EQ(parseError(craft(" {}")), "m.safetensors: bad JSON header: expected '{' at byte 0");
  EXPECT_EQ(parseError(craft(R"({"a": )")),
            "m.safetensors: bad JSON header: expected a JSON value, found the end of the text at "
            "byte 6");
  EXPECT_EQ(parseError(craft("{} {}")),
            "m.safetensors: bad JSON header: unexpected text after the JSON value at byte 3");
}

TEST(SafetensorsTest, TruncatedData) {
  std::string bytes = *serializeSafetensors(sampleTensors());
  bytes.resize(bytes.size() - 1);
  // The tensor stored last ('x': I32 data follows the F64 and F32 data) loses its last byte.
  EXPECT_EQ(parseError(bytes), "m.safetensors: tensor 'x': data_offsets [52, 68] go past the end "
                               "of the data (67 bytes)");
}

// PyTorch's half-precision weights are widened to F32 exactly: normal, subnormal, signed zero,
// infinity and the largest values of each format.
TEST(SafetensorsTest, HalfPrecisionIsReadAsF32) {
  const std::vector<uint16_t> f16 = {0x3c00, 0xc000, 0x3555, 0x0001, 0x8000, 0x7c00, 0x7bff};
  const std::vector<float> f16Values = {1.0f, -2.0f, 0.333251953125f, 5.9604644775390625e-8f,
                                        -0.0f, INFINITY, 65504.0f};
  const std::vector<uint16_t> bf16 = {0x3f80, 0xc040, 0x3eab, 0x7f7f};
  const std::vector<float> bf16Values = {1.0f, -3.0f, 0.333984375f, 3.3895313892515355e38f};
  std::string data(reinterpret_cast<const char *>(f16.data()), 2 * f16.size());
  data.append(reinterpret_cast<const char *>(bf16.data()), 2 * bf16.size());
  auto tensors = parseSafetensors(
      craft(R"({"a": {"dtype": "F16", "shape": [7], "data_offsets": [0, 14]},)"
            R"( "b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [14, 22]}})",
            data),
      "m.safetensors");
  ASSERT_TRUE(tensors) << tensors.error().message;
  const Tensor &a = tensors->at("a"), &b = tensors->at("b");
  ASSERT_EQ(a.dtype(), DType::F32);
  ASSERT_EQ(b.dtype(), DType::F32);
  EXPECT_EQ(b.shape(), (std::vector<int64_t>{2, 2}));
  for (size_t i = 0; i < f16Values.size(); ++i)
    EXPECT_EQ(a.values<float>()[i], f16Values[i]) << "F16 " << i;
  EXPECT_TRUE(std::signbit(a.values<float>()[4]));
  for (size_t i = 0; i < bf16Values.size(); ++i)
    EXPECT_EQ(b.values<float>()[i], bf16Values[i]) << "BF16 " << i;
}

TEST(SafetensorsTest, DTypeErrors) {
  EXPECT_EQ(parseError(craft(R"({"W": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}})",
                             std::string(16, '\0'))),
            "m.safetensors: tensor 'W' has dtype I64, which rnnc does not support (supported: "
            "F32, F64, I32; F16 and BF16 read as F32)");
  EXPECT_EQ(parseError(craft(R"({"W": {"dtype": "F33", "shape": [], "data_offsets": [0, 4]}})",
                             std::string(4, '\0'))),
            "m.safetensors: tensor 'W' has unknown dtype 'F33' (supported: F32, F64, I32; F16 and "
            "BF16 read as F32)");
  EXPECT_EQ(parseError(craft(R"({"W": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 4]}})",
                             std::string(4, '\0'))),
            "m.safetensors: tensor 'W': data_offsets [0, 4] hold 4 bytes, but shape [3] of BF16 "
            "needs 6");
  EXPECT_EQ(parseError(craft(R"({"W": {"dtype": 32, "shape": [], "data_offsets": [0, 4]}})")),
            "m.safetensors: tensor 'W': dtype must be a string, got a number");
}

TEST(SafetensorsTest, EntryStructureErrors) {
  EXPECT_EQ(parseError(craft(R"({"W": [1]})")),
            "m.safetensors: tensor 'W': expected an object with dtype, shape and data_offsets, "
            "got an array");
  EXPECT_EQ(parseError(craft(R"({"W": {"dtype": "F32", "shape": []}})")),
            "m.safetensors: tensor 'W': missing 'data_offsets'");
  EXPECT_EQ(parseError(craft(R"({"W": {"dtype": "F32", "dtype": "F32"}})")),
            "m.safetensors: tensor 'W': duplicate field 'dtype'");
  EXPECT_EQ(parseError(craft(R"({"W": {"dtype": "F32", "shape": [], "data_offsets": [0]}})")),
            "m.safetensors: tensor 'W': data_offsets must be an array [begin, end]");
}

TEST(SafetensorsTest, ShapeErrors) {
  auto withShape = [](const std::string &shape) {
    return craft(R"({"W": {"dtype": "F32", "shape": )" + shape + R"(, "data_offsets": [0, 0]}})");
  };
  EXPECT_EQ(parseError(withShape("[2, 1.5]")),
            "m.safetensors: tensor 'W': shape entry 1.5 is not a non-negative integer");
  EXPECT_EQ(parseError(withShape("[-3]")),
            "m.safetensors: tensor 'W': shape entry -3 is not a non-negative integer");
  EXPECT_EQ(parseError(withShape("[1e3]")),
            "m.safetensors: tensor 'W': shape entry 1e3 is not a non-negative integer");
  EXPECT_EQ(parseError(withShape(R"(["2"])")),
            "m.safetensors: tensor 'W': shape entry must be a non-negative integer, got a string");
  EXPECT_EQ(parseError(withShape("[99999999999999999999]")),
            "m.safetensors: tensor 'W': shape entry 99999999999999999999 is too large");
  EXPECT_EQ(parseError(withShape("[4294967296, 4294967296]")),
            "m.safetensors: tensor 'W': shape [4294967296, 4294967296] has too many elements");
  EXPECT_EQ(parseError(withShape("7")),
            "m.safetensors: tensor 'W': shape must be an array, got a number");
}

TEST(SafetensorsTest, ShapeOffsetMismatch) {
  EXPECT_EQ(
      parseError(craft(R"({"W": {"dtype": "F32", "shape": [5, 6], "data_offsets": [0, 100]}})",
                       std::string(100, '\0'))),
      "m.safetensors: tensor 'W': data_offsets [0, 100] hold 100 bytes, but shape [5, 6] "
      "of F32 needs 120");
}

TEST(SafetensorsTest, OffsetErrors) {
  std::string data(16, '\0');
  EXPECT_EQ(parseError(craft(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                             R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                             data)),
            "m.safetensors: tensors 'a' and 'b' overlap: data_offsets [0, 8] and [4, 12]");
  EXPECT_EQ(parseError(craft(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]},)"
                             R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                             data)),
            "m.safetensors: bytes [4, 8) of the data belong to no tensor");
  EXPECT_EQ(
      parseError(craft(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", data)),
      "m.safetensors: bytes [8, 16) of the data belong to no tensor");
  EXPECT_EQ(
      parseError(craft(R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", data)),
      "m.safetensors: tensor 'a': data_offsets [8, 4] end before they begin");
  EXPECT_EQ(
      parseError(craft(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}})", data)),
      "m.safetensors: tensor 'a': data_offsets entry -8 is not a non-negative integer");
  EXPECT_EQ(
      parseError(craft(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [16, 32]}})", data)),
      "m.safetensors: tensor 'a': data_offsets [16, 32] go past the end of the data (16 "
      "bytes)");
}

TEST(SafetensorsTest, DuplicateNames) {
  std::string entry = R"({"dtype": "F32", "shape": [1], "data_offsets": [0, 4]})";
  EXPECT_EQ(parseError(craft(R"({"W": )" + entry + R"(, "W": )" + entry + "}", "abcd")),
            "m.safetensors: duplicate tensor name 'W'");
}

TEST(SafetensorsTest, MetadataErrors) {
  EXPECT_EQ(parseError(craft(R"({"__metadata__": {"k": 1}})")),
            "m.safetensors: '__metadata__' entry 'k' must be a string, got a number");
  EXPECT_EQ(parseError(craft(R"({"__metadata__": []})")),
            "m.safetensors: '__metadata__' must be an object of strings, got an array");
  EXPECT_EQ(parseError(craft(R"({"__metadata__": {"k": "a", "k": "b"}})")),
            "m.safetensors: duplicate '__metadata__' key 'k'");
  EXPECT_EQ(parseError(craft(R"({"__metadata__": {}, "__metadata__": {}})")),
            "m.safetensors: duplicate '__metadata__'");
}

TEST(SafetensorsTest, EveryTruncationOfAValidFileIsAnErrorNotACrash) {
  std::string bytes = *serializeSafetensors(sampleTensors(), {{"format", "pt"}});
  for (size_t length = 0; length < bytes.size(); ++length) {
    Expected<TensorMap> read = parseSafetensors(std::string_view(bytes).substr(0, length), "t");
    ASSERT_FALSE(read) << "length " << length;
    EXPECT_EQ(read.error().kind, ErrorKind::User);
  }
}

TEST(SafetensorsTest, CorruptedBytesGiveAUserErrorOrTensorsNeverACrash) {
  std::string valid = *serializeSafetensors(sampleTensors(), {{"format", "pt"}});
  Rng rng(2024);
  for (int trial = 0; trial < 5000; ++trial) {
    std::string bytes = valid;
    int flips = 1 + int(rng.nextU64() % 4);
    for (int i = 0; i < flips; ++i)
      bytes[rng.nextU64() % bytes.size()] = char(rng.nextU64() & 0xFF);
    Expected<TensorMap> read = parseSafetensors(bytes, "t");
    if (!read) {
      EXPECT_EQ(read.error().kind, ErrorKind::User);
    }
  }
}

TEST(SafetensorsTest, CheckTensor) {
  Tensor weights(DType::F32, {128, 64});
  EXPECT_TRUE(checkTensor("W", weights, DType::F32, {128, 64}).isOk());
  EXPECT_EQ(checkTensor("W", weights, DType::F32, {128, 128}).error().message,
            "tensor 'W' has shape [128, 64], expected [128, 128]");
  EXPECT_EQ(checkTensor("x", weights, DType::I32, {128, 64}).error().message,
            "tensor 'x' has dtype F32, expected I32");
}

TEST(SafetensorsTest, CheckTokenRange) {
  Tensor tokens(DType::I32, {4, 2});
  tokens.data<int32_t>()[7] = 70; // index [3, 1]
  EXPECT_EQ(checkTokenRange("x", tokens, 65).error().message,
            "tensor 'x': token id 70 at index [3, 1] is out of range [0, 65)");
  tokens.data<int32_t>()[7] = 64;
  EXPECT_TRUE(checkTokenRange("x", tokens, 65).isOk());
  tokens.data<int32_t>()[2] = -1; // index [1, 0]
  EXPECT_EQ(checkTokenRange("x", tokens, 65).error().message,
            "tensor 'x': token id -1 at index [1, 0] is out of range [0, 65)");
  EXPECT_EQ(checkTokenRange("x", Tensor(DType::F32, {2}), 65).error().message,
            "tensor 'x' has dtype F32, expected I32");
}

TEST_F(SafetensorsFileTest, RoundTripThroughAFile) {
  TensorMap tensors = sampleTensors();
  ASSERT_TRUE(writeSafetensors(path("model.safetensors"), tensors, {{"step", "3"}}).isOk());
  SafetensorsMetadata metadata;
  Expected<TensorMap> read = readSafetensors(path("model.safetensors"), &metadata);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, tensors);
  EXPECT_EQ(metadata.at("step"), "3");
}

TEST_F(SafetensorsFileTest, AtomicWriteLeavesNoTemporaryFile) {
  ASSERT_TRUE(writeSafetensors(path("a.safetensors"), sampleTensors()).isOk());
  // Overwriting replaces the file in one step.
  TensorMap other;
  other["z"] = Tensor::fromValues<float>({1}, {9});
  ASSERT_TRUE(writeSafetensors(path("a.safetensors"), other).isOk());
  EXPECT_EQ(directoryEntries(), std::vector<std::string>{"a.safetensors"});
  EXPECT_EQ(*readSafetensors(path("a.safetensors")), other);
}

TEST_F(SafetensorsFileTest, FailedWriteLeavesTargetAndDirectoryUntouched) {
  ASSERT_TRUE(writeSafetensors(path("a.safetensors"), sampleTensors()).isOk());
  // A directory where the file should go: the rename fails after the data was written.
  std::filesystem::create_directory(path("dir.safetensors"));
  std::filesystem::create_directory(path("dir.safetensors/inside"));
  Status status = writeSafetensors(path("dir.safetensors"), sampleTensors());
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, path("dir.safetensors") + ": cannot write: Is a directory");
  EXPECT_EQ(directoryEntries(), (std::vector<std::string>{"a.safetensors", "dir.safetensors"}));

  Status missingDirectory = writeSafetensors(path("no/such/dir/a.safetensors"), {});
  ASSERT_FALSE(missingDirectory);
  EXPECT_EQ(missingDirectory.error().message,
            path("no/such/dir/a.safetensors") +
                ": cannot create a temporary file: No such file or directory");
}

TEST_F(SafetensorsFileTest, ReadErrorsNameTheFile) {
  Expected<TensorMap> missing = readSafetensors(path("missing.safetensors"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            path("missing.safetensors") + ": cannot open: No such file or directory");

  Expected<TensorMap> directory = readSafetensors(directory_.string());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().message, directory_.string() + ": cannot read: Is a directory");

  writeRaw("short.safetensors", std::string("\x02\x00\x00", 3));
  Expected<TensorMap> truncated = readSafetensors(path("short.safetensors"));
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().message,
            path("short.safetensors") +
                ": truncated file: 3 bytes, too short for the 8-byte header length");
}

} // namespace
} // namespace rnnc
