// A small palette image with the drawing a plot needs (lines, dots, text in a built-in 3x5
// bitmap font drawn at twice the size) and its PNG encoding: the pixels go through zlib's
// deflate (its fastest level, a zlib stream with Adler-32), in PNG chunks with zlib's CRC-32
// (8-bit palette colour type 3, no interlace, filter 0 on every row). A plot is mostly runs of
// one colour, so an 800x480 plot stays around 10 kB.
//
// Invariant: every pixel holds a palette index; drawing outside the image is clipped.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace rnnc {

class PngImage {
public:
  using Rgb = std::array<uint8_t, 3>;
  static constexpr int kGlyphWidth = 6, kGlyphHeight = 10, kGlyphSpacing = 2;

  /// A `width` x `height` image filled with palette entry 0. At most 256 colours.
  PngImage(int width, int height, std::vector<Rgb> palette);

  int width() const { return width_; }
  int height() const { return height_; }
  uint8_t at(int x, int y) const { return pixels_[size_t(y) * size_t(width_) + size_t(x)]; }

  void set(int x, int y, uint8_t color);
  /// A one-pixel line from (x0, y0) to (x1, y1), both ends included.
  void line(int x0, int y0, int x1, int y1, uint8_t color);
  /// A line about two pixels wide between points in (sub)pixel coordinates.
  void thickLine(double x0, double y0, double x1, double y1, uint8_t color);
  /// A filled disc.
  void dot(double x, double y, double radius, uint8_t color);
  /// Text with (x, y) the top left corner. The font has digits, capital letters (small ones
  /// draw as capitals) and . - + ( ) : / _ ,; other characters draw as blanks.
  void text(int x, int y, const std::string &text, uint8_t color);
  static int textWidth(const std::string &text);

  /// The PNG file.
  std::string encode() const;

private:
  int width_, height_;
  std::vector<Rgb> palette_;
  std::vector<uint8_t> pixels_;
};

/// The CRC-32 of PNG chunks and gzip (polynomial 0xEDB88320), zlib's.
uint32_t crc32(const uint8_t *data, size_t size, uint32_t crc = 0);
/// The Adler-32 checksum of zlib streams, zlib's.
uint32_t adler32(const uint8_t *data, size_t size);
/// A zlib stream (RFC 1950) holding `data` deflated by zlib at its fastest level. Running out of
/// memory throws std::bad_alloc, as the string's own allocation would.
std::string zlibCompress(const std::vector<uint8_t> &data);

} // namespace rnnc
