#include "runtime/PngImage.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <new>

#include <zlib.h>

namespace rnnc {

namespace {

/// 3x5 glyphs, one row per entry (bit 2 = left column).
struct Glyph {
  char character;
  uint8_t rows[5];
};
constexpr Glyph kFont[] = {
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}}, {'3', {7, 1, 7, 1, 7}},
    {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}}, {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 1, 1}},
    {'8', {7, 5, 7, 5, 7}}, {'9', {7, 5, 7, 1, 7}}, {'.', {0, 0, 0, 0, 2}}, {'-', {0, 0, 7, 0, 0}},
    {'+', {0, 2, 7, 2, 0}}, {'(', {1, 2, 2, 2, 1}}, {')', {4, 2, 2, 2, 4}}, {':', {0, 2, 0, 2, 0}},
    {'/', {1, 1, 2, 4, 4}}, {'_', {0, 0, 0, 0, 7}}, {',', {0, 0, 0, 2, 4}}, {'A', {2, 5, 7, 5, 5}},
    {'B', {6, 5, 6, 5, 6}}, {'C', {3, 4, 4, 4, 3}}, {'D', {6, 5, 5, 5, 6}}, {'E', {7, 4, 6, 4, 7}},
    {'F', {7, 4, 6, 4, 4}}, {'G', {3, 4, 5, 5, 3}}, {'H', {5, 5, 7, 5, 5}}, {'I', {7, 2, 2, 2, 7}},
    {'J', {1, 1, 1, 5, 2}}, {'K', {5, 5, 6, 5, 5}}, {'L', {4, 4, 4, 4, 7}}, {'M', {5, 7, 7, 5, 5}},
    {'N', {6, 5, 5, 5, 5}}, {'O', {2, 5, 5, 5, 2}}, {'P', {6, 5, 6, 4, 4}}, {'Q', {2, 5, 5, 6, 3}},
    {'R', {6, 5, 6, 5, 5}}, {'S', {3, 4, 2, 1, 6}}, {'T', {7, 2, 2, 2, 2}}, {'U', {5, 5, 5, 5, 7}},
    {'V', {5, 5, 5, 5, 2}}, {'W', {5, 5, 7, 7, 5}}, {'X', {5, 5, 2, 5, 5}}, {'Y', {5, 5, 2, 2, 2}},
    {'Z', {7, 1, 2, 4, 7}},
};

void appendBigEndian(std::string &out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out += char((value >> shift) & 0xFF);
}

void appendChunk(std::string &png, const char *type, const std::string &data) {
  appendBigEndian(png, uint32_t(data.size()));
  std::string body = std::string(type, 4) + data;
  png += body;
  appendBigEndian(png, crc32(reinterpret_cast<const uint8_t *>(body.data()), body.size()));
}

} // namespace

uint32_t crc32(const uint8_t *data, size_t size, uint32_t crc) {
  return uint32_t(::crc32_z(crc, data, size));
}

uint32_t adler32(const uint8_t *data, size_t size) {
  return uint32_t(::adler32_z(::adler32_z(0, nullptr, 0), data, size));
}

std::string zlibCompress(const std::vector<uint8_t> &data) {
  uLongf size = ::compressBound(uLong(data.size()));
  std::string out(size, '\0');
  // Z_BEST_SPEED: a plot's long runs compress well at any level (header 0x78 0x01).
  int status = ::compress2(reinterpret_cast<Bytef *>(out.data()), &size, data.data(),
                           uLong(data.size()), Z_BEST_SPEED);
  if (status != Z_OK) // compressBound leaves room, so only memory can run out
    throw std::bad_alloc();
  out.resize(size);
  return out;
}

PngImage::PngImage(int width, int height, std::vector<Rgb> palette)
    : width_(width), height_(height), palette_(std::move(palette)),
      pixels_(size_t(width) * size_t(height), 0) {}

void PngImage::set(int x, int y, uint8_t color) {
  if (x >= 0 && y >= 0 && x < width_ && y < height_)
    pixels_[size_t(y) * size_t(width_) + size_t(x)] = color;
}

void PngImage::line(int x0, int y0, int x1, int y1, uint8_t color) {
  int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, error = dx + dy;
  for (;;) {
    set(x0, y0, color);
    if (x0 == x1 && y0 == y1)
      return;
    int twice = 2 * error;
    if (twice >= dy) {
      error += dy;
      x0 += sx;
    }
    if (twice <= dx) {
      error += dx;
      y0 += sy;
    }
  }
}

void PngImage::thickLine(double x0, double y0, double x1, double y1, uint8_t color) {
  double length = std::hypot(x1 - x0, y1 - y0);
  int samples = std::max(1, int(std::ceil(length * 2)));
  for (int i = 0; i <= samples; ++i) {
    double f = double(i) / samples;
    dot(x0 + f * (x1 - x0), y0 + f * (y1 - y0), 1.0, color);
  }
}

void PngImage::dot(double x, double y, double radius, uint8_t color) {
  for (int py = int(std::floor(y - radius)); py <= int(std::ceil(y + radius)); ++py)
    for (int px = int(std::floor(x - radius)); px <= int(std::ceil(x + radius)); ++px)
      if (std::hypot(px - x, py - y) <= radius)
        set(px, py, color);
}

int PngImage::textWidth(const std::string &text) {
  return text.empty() ? 0 : int(text.size()) * (kGlyphWidth + kGlyphSpacing) - kGlyphSpacing;
}

void PngImage::text(int x, int y, const std::string &text, uint8_t color) {
  for (char character : text) {
    if (character >= 'a' && character <= 'z')
      character = char(character - 'a' + 'A');
    for (const Glyph &glyph : kFont)
      if (glyph.character == character)
        for (int row = 0; row < 5; ++row)
          for (int column = 0; column < 3; ++column)
            if (glyph.rows[row] >> (2 - column) & 1)
              for (int py = 0; py < 2; ++py)
                for (int px = 0; px < 2; ++px)
                  set(x + 2 * column + px, y + 2 * row + py, color);
    x += kGlyphWidth + kGlyphSpacing;
  }
}

std::string PngImage::encode() const {
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string header;
  appendBigEndian(header, uint32_t(width_));
  appendBigEndian(header, uint32_t(height_));
  header +=
      std::string("\x08\x03\x00\x00\x00", 5); // 8-bit palette, deflate, filter 0, no interlace
  appendChunk(png, "IHDR", header);
  std::string palette;
  for (const Rgb &color : palette_)
    palette.append(color.begin(), color.end());
  appendChunk(png, "PLTE", palette);
  std::vector<uint8_t> rows;
  rows.reserve(pixels_.size() + size_t(height_));
  for (int y = 0; y < height_; ++y) {
    rows.push_back(0); // filter: none
    auto row = pixels_.begin() + std::ptrdiff_t(y) * width_;
    rows.insert(rows.end(), row, row + width_);
  }
  appendChunk(png, "IDAT", zlibCompress(rows));
  appendChunk(png, "IEND", "");
  return png;
}

} // namespace rnnc
