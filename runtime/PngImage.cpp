#include "runtime/PngImage.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

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

/// Writes bits least significant first, as deflate packs them.
class BitWriter {
public:
  explicit BitWriter(std::string &out) : out_(out) {}
  void bits(uint32_t value, int count) {
    for (int i = 0; i < count; ++i)
      bit((value >> i) & 1);
  }
  /// A Huffman code: most significant bit first.
  void code(uint32_t value, int length) {
    for (int i = length - 1; i >= 0; --i)
      bit((value >> i) & 1);
  }
  void flush() {
    if (used_ > 0)
      out_ += char(current_);
    current_ = 0;
    used_ = 0;
  }

private:
  void bit(uint32_t value) {
    current_ |= uint8_t(value << used_);
    if (++used_ == 8)
      flush();
  }
  std::string &out_;
  uint8_t current_ = 0;
  int used_ = 0;
};

/// A literal/length symbol in the fixed Huffman code of RFC 1951 §3.2.6.
void writeSymbol(BitWriter &writer, int symbol) {
  if (symbol < 144)
    writer.code(0x30 + symbol, 8);
  else if (symbol < 256)
    writer.code(0x190 + symbol - 144, 9);
  else if (symbol < 280)
    writer.code(symbol - 256, 7);
  else
    writer.code(0xC0 + symbol - 280, 8);
}

constexpr int kLengthBase[] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                               31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr int kLengthExtra[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr int kDistanceBase[] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                 33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr int kDistanceExtra[] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                  6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

void writeMatch(BitWriter &writer, int length, int distance) {
  int l = 28;
  while (kLengthBase[l] > length)
    --l;
  writeSymbol(writer, 257 + l);
  writer.bits(uint32_t(length - kLengthBase[l]), kLengthExtra[l]);
  int d = 29;
  while (kDistanceBase[d] > distance)
    --d;
  writer.code(uint32_t(d), 5);
  writer.bits(uint32_t(distance - kDistanceBase[d]), kDistanceExtra[d]);
}

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
  static const auto table = [] {
    std::array<uint32_t, 256> entries{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      entries[n] = c;
    }
    return entries;
  }();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i)
    crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t adler32(const uint8_t *data, size_t size) {
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < size; ++i) {
    a = (a + data[i]) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

std::string zlibCompress(const std::vector<uint8_t> &data) {
  std::string out = "\x78\x01"; // deflate, 32 kB window; (0x78 * 256 + 0x01) % 31 == 0
  BitWriter writer(out);
  writer.bits(1, 1); // the final block
  writer.bits(1, 2); // fixed Huffman codes
  // Greedy LZ77: the most recent earlier position with the same three bytes, within 32 kB.
  constexpr int kWindow = 32768, kMaxLength = 258;
  std::vector<int64_t> lastSeen(1 << 15, -1);
  auto hash = [&](size_t i) {
    return (uint32_t(data[i]) << 10 ^ uint32_t(data[i + 1]) << 5 ^ uint32_t(data[i + 2])) & 0x7FFF;
  };
  for (size_t i = 0; i < data.size();) {
    int length = 0;
    int64_t candidate = -1;
    if (i + 3 <= data.size()) {
      uint32_t h = hash(i);
      candidate = lastSeen[h];
      lastSeen[h] = int64_t(i);
      if (candidate >= 0 && int64_t(i) - candidate <= kWindow)
        while (length < kMaxLength && i + size_t(length) < data.size() &&
               data[size_t(candidate) + size_t(length)] == data[i + size_t(length)])
          ++length;
    }
    if (length >= 3) {
      writeMatch(writer, length, int(int64_t(i) - candidate));
      for (size_t j = i + 1; j < i + size_t(length) && j + 3 <= data.size(); ++j)
        lastSeen[hash(j)] = int64_t(j);
      i += size_t(length);
    } else {
      writeSymbol(writer, data[i]);
      ++i;
    }
  }
  writeSymbol(writer, 256); // end of block
  writer.flush();
  appendBigEndian(out, adler32(data.data(), data.size()));
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
