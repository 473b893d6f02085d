// The PNG writer (runtime/PngImage.h): the file structure (signature, IHDR, PLTE, IDAT, IEND),
// every chunk's CRC recomputed here bit by bit (not with the writer's table), the zlib header
// and the checksums against known values. test/train/plot-png.test inflates a real plot with
// Python's zlib and checks its pixels.
#include "runtime/PngImage.h"

#include <gtest/gtest.h>

#include <string>

namespace rnnc {
namespace {

uint32_t bigEndian(const std::string &bytes, size_t at) {
  return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 |
         uint32_t(uint8_t(bytes[at + 2])) << 8 | uint32_t(uint8_t(bytes[at + 3]));
}

/// CRC-32 the slow way, one bit at a time.
uint32_t bitwiseCrc(const std::string &bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char byte : bytes) {
    crc ^= uint8_t(byte);
    for (int k = 0; k < 8; ++k)
      crc = crc & 1 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  return ~crc;
}

struct Chunk {
  std::string type, data;
};

std::vector<Chunk> chunksOf(const std::string &png) {
  std::vector<Chunk> chunks;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  for (size_t at = 8; at < png.size();) {
    uint32_t length = bigEndian(png, at);
    EXPECT_LE(at + 12 + length, png.size());
    std::string body = png.substr(at + 4, 4 + length);
    EXPECT_EQ(bigEndian(png, at + 8 + length), bitwiseCrc(body)) << body.substr(0, 4);
    chunks.push_back({body.substr(0, 4), body.substr(4)});
    at += 12 + length;
  }
  return chunks;
}

TEST(PngImageTest, ChecksumsMatchKnownValues) {
  const std::string text = "123456789";
  auto bytes = reinterpret_cast<const uint8_t *>(text.data());
  EXPECT_EQ(crc32(bytes, text.size()), 0xCBF43926u); // the standard check value
  EXPECT_EQ(adler32(bytes, text.size()), 0x091E01DEu);
  EXPECT_EQ(adler32(nullptr, 0), 1u);
}

TEST(PngImageTest, FileHasTheChunksOfAPaletteImage) {
  PngImage image(37, 21, {{255, 255, 255}, {0, 0, 0}, {255, 0, 0}});
  image.line(0, 0, 36, 20, 1);
  image.dot(18, 10, 3, 2);
  image.text(2, 2, "0.5", 1);
  std::vector<Chunk> chunks = chunksOf(image.encode());
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].type, "IHDR");
  EXPECT_EQ(bigEndian(chunks[0].data, 0), 37u);
  EXPECT_EQ(bigEndian(chunks[0].data, 4), 21u);
  EXPECT_EQ(chunks[0].data.substr(8), std::string("\x08\x03\x00\x00\x00", 5));
  EXPECT_EQ(chunks[1].type, "PLTE");
  EXPECT_EQ(chunks[1].data, std::string("\xff\xff\xff\x00\x00\x00\xff\x00\x00", 9));
  EXPECT_EQ(chunks[2].type, "IDAT");
  EXPECT_EQ(chunks[2].data.substr(0, 2), "\x78\x01");
  EXPECT_EQ(chunks[3].type, "IEND");
  EXPECT_TRUE(chunks[3].data.empty());
}

TEST(PngImageTest, DrawingSetsThePixelsAndClips) {
  PngImage image(10, 10, {{255, 255, 255}, {0, 0, 0}});
  image.line(-5, 3, 20, 3, 1); // clipped at both ends
  for (int x = 0; x < 10; ++x)
    EXPECT_EQ(image.at(x, 3), 1);
  EXPECT_EQ(image.at(0, 4), 0);
  image.line(2, 0, 2, 9, 1);
  EXPECT_EQ(image.at(2, 9), 1);
  image.text(5, 5, "-", 1); // the minus: the middle row of the glyph, twice the size
  EXPECT_EQ(image.at(5, 9), 1);
  EXPECT_EQ(image.at(5, 8), 0);
}

TEST(PngImageTest, RunsCompress) {
  PngImage image(800, 480, {{255, 255, 255}, {0, 0, 0}});
  image.line(0, 0, 799, 479, 1);
  EXPECT_LT(image.encode().size(), 20000u); // 384 kB of pixels
}

} // namespace
} // namespace rnnc
