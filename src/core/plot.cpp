// PNG encoder, raster canvas with a 5x7 bitmap font, and bar/line charts; see plot.h.
#include "core/plot.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/io.h"

namespace clickprompt::core {

namespace {

// 5x7 glyphs for ASCII 32..126 on a 9-row cell: five columns left to right,
// bit 0 = top row; capitals and x-height letters sit on row 6 (the baseline),
// descenders of g j p q y use rows 7-8.
const uint16_t kFont[95][5] = {
    {0x00, 0x00, 0x00, 0x00, 0x00},  // ' '
    {0x00, 0x00, 0x5F, 0x00, 0x00},  // !
    {0x00, 0x07, 0x00, 0x07, 0x00},  // "
    {0x14, 0x7F, 0x14, 0x7F, 0x14},  // #
    {0x24, 0x2A, 0x7F, 0x2A, 0x12},  // $
    {0x23, 0x13, 0x08, 0x64, 0x62},  // %
    {0x36, 0x49, 0x55, 0x22, 0x50},  // &
    {0x00, 0x05, 0x03, 0x00, 0x00},  // '
    {0x00, 0x1C, 0x22, 0x41, 0x00},  // (
    {0x00, 0x41, 0x22, 0x1C, 0x00},  // )
    {0x14, 0x08, 0x3E, 0x08, 0x14},  // *
    {0x08, 0x08, 0x3E, 0x08, 0x08},  // +
    {0x00, 0x50, 0x30, 0x00, 0x00},  // ,
    {0x08, 0x08, 0x08, 0x08, 0x08},  // -
    {0x00, 0x60, 0x60, 0x00, 0x00},  // .
    {0x20, 0x10, 0x08, 0x04, 0x02},  // /
    {0x3E, 0x51, 0x49, 0x45, 0x3E},  // 0
    {0x00, 0x42, 0x7F, 0x40, 0x00},  // 1
    {0x42, 0x61, 0x51, 0x49, 0x46},  // 2
    {0x21, 0x41, 0x45, 0x4B, 0x31},  // 3
    {0x18, 0x14, 0x12, 0x7F, 0x10},  // 4
    {0x27, 0x45, 0x45, 0x45, 0x39},  // 5
    {0x3C, 0x4A, 0x49, 0x49, 0x30},  // 6
    {0x01, 0x71, 0x09, 0x05, 0x03},  // 7
    {0x36, 0x49, 0x49, 0x49, 0x36},  // 8
    {0x06, 0x49, 0x49, 0x29, 0x1E},  // 9
    {0x00, 0x36, 0x36, 0x00, 0x00},  // :
    {0x00, 0x56, 0x36, 0x00, 0x00},  // ;
    {0x08, 0x14, 0x22, 0x41, 0x00},  // <
    {0x14, 0x14, 0x14, 0x14, 0x14},  // =
    {0x00, 0x41, 0x22, 0x14, 0x08},  // >
    {0x02, 0x01, 0x51, 0x09, 0x06},  // ?
    {0x32, 0x49, 0x79, 0x41, 0x3E},  // @
    {0x7E, 0x11, 0x11, 0x11, 0x7E},  // A
    {0x7F, 0x49, 0x49, 0x49, 0x36},  // B
    {0x3E, 0x41, 0x41, 0x41, 0x22},  // C
    {0x7F, 0x41, 0x41, 0x22, 0x1C},  // D
    {0x7F, 0x49, 0x49, 0x49, 0x41},  // E
    {0x7F, 0x09, 0x09, 0x09, 0x01},  // F
    {0x3E, 0x41, 0x49, 0x49, 0x7A},  // G
    {0x7F, 0x08, 0x08, 0x08, 0x7F},  // H
    {0x00, 0x41, 0x7F, 0x41, 0x00},  // I
    {0x20, 0x40, 0x41, 0x3F, 0x01},  // J
    {0x7F, 0x08, 0x14, 0x22, 0x41},  // K
    {0x7F, 0x40, 0x40, 0x40, 0x40},  // L
    {0x7F, 0x02, 0x0C, 0x02, 0x7F},  // M
    {0x7F, 0x04, 0x08, 0x10, 0x7F},  // N
    {0x3E, 0x41, 0x41, 0x41, 0x3E},  // O
    {0x7F, 0x09, 0x09, 0x09, 0x06},  // P
    {0x3E, 0x41, 0x51, 0x21, 0x5E},  // Q
    {0x7F, 0x09, 0x19, 0x29, 0x46},  // R
    {0x46, 0x49, 0x49, 0x49, 0x31},  // S
    {0x01, 0x01, 0x7F, 0x01, 0x01},  // T
    {0x3F, 0x40, 0x40, 0x40, 0x3F},  // U
    {0x1F, 0x20, 0x40, 0x20, 0x1F},  // V
    {0x3F, 0x40, 0x38, 0x40, 0x3F},  // W
    {0x63, 0x14, 0x08, 0x14, 0x63},  // X
    {0x07, 0x08, 0x70, 0x08, 0x07},  // Y
    {0x61, 0x51, 0x49, 0x45, 0x43},  // Z
    {0x00, 0x7F, 0x41, 0x41, 0x00},  // [
    {0x02, 0x04, 0x08, 0x10, 0x20},  // backslash
    {0x00, 0x41, 0x41, 0x7F, 0x00},  // ]
    {0x04, 0x02, 0x01, 0x02, 0x04},  // ^
    {0x40, 0x40, 0x40, 0x40, 0x40},  // _
    {0x00, 0x01, 0x02, 0x04, 0x00},  // `
    {0x20, 0x54, 0x54, 0x54, 0x78},  // a
    {0x7F, 0x48, 0x44, 0x44, 0x38},  // b
    {0x38, 0x44, 0x44, 0x44, 0x20},  // c
    {0x38, 0x44, 0x44, 0x48, 0x7F},  // d
    {0x38, 0x54, 0x54, 0x54, 0x18},  // e
    {0x08, 0x7E, 0x09, 0x01, 0x02},  // f
    {0x038, 0x144, 0x144, 0x144, 0x0FC},  // g (rows 7-8: descender)
    {0x7F, 0x08, 0x04, 0x04, 0x78},  // h
    {0x00, 0x44, 0x7D, 0x40, 0x00},  // i
    {0x080, 0x100, 0x104, 0x0FD, 0x000},  // j
    {0x7F, 0x10, 0x28, 0x44, 0x00},  // k
    {0x00, 0x41, 0x7F, 0x40, 0x00},  // l
    {0x7C, 0x04, 0x18, 0x04, 0x78},  // m
    {0x7C, 0x08, 0x04, 0x04, 0x78},  // n
    {0x38, 0x44, 0x44, 0x44, 0x38},  // o
    {0x1FC, 0x044, 0x044, 0x044, 0x038},  // p
    {0x038, 0x044, 0x044, 0x044, 0x1FC},  // q
    {0x7C, 0x08, 0x04, 0x04, 0x08},  // r
    {0x48, 0x54, 0x54, 0x54, 0x20},  // s
    {0x04, 0x3F, 0x44, 0x40, 0x20},  // t
    {0x3C, 0x40, 0x40, 0x20, 0x7C},  // u
    {0x1C, 0x20, 0x40, 0x20, 0x1C},  // v
    {0x3C, 0x40, 0x30, 0x40, 0x3C},  // w
    {0x44, 0x28, 0x10, 0x28, 0x44},  // x
    {0x03C, 0x140, 0x140, 0x140, 0x0FC},  // y
    {0x44, 0x64, 0x54, 0x4C, 0x44},  // z
    {0x00, 0x08, 0x36, 0x41, 0x00},  // {
    {0x00, 0x00, 0x7F, 0x00, 0x00},  // |
    {0x00, 0x41, 0x36, 0x08, 0x00},  // }
    {0x08, 0x04, 0x08, 0x10, 0x08},  // ~
};
// Characters outside the table: an outlined box.
const uint16_t kBoxGlyph[5] = {0x7F, 0x41, 0x41, 0x41, 0x7F};

constexpr int kAdvance = 6;   // 5 glyph columns + 1 column of spacing
constexpr int kCellRows = 9;  // 7 rows above the baseline + 2 for descenders

void put_u32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xFF));
  out.push_back(static_cast<char>((v >> 16) & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}

void put_chunk(std::string& out, const char type[4], const std::string& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  out += body;
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  put_u32(out, static_cast<uint32_t>(crc));
}

// Calls fn(glyph) for each character of UTF-8 `text`: printable ASCII maps to its
// glyph, any other byte or multi-byte sequence to the box.
template <typename F>
void for_each_glyph(const std::string& text, F&& fn) {
  for (unsigned char ch : text) {
    if (ch >= 0x80 && ch < 0xC0) continue;  // UTF-8 continuation byte: part of the previous char
    if (ch >= 32 && ch <= 126)
      fn(kFont[ch - 32]);
    else
      fn(kBoxGlyph);
  }
}

}  // namespace

// ---- PNG -------------------------------------------------------------------

std::string encode_png(int width, int height, const std::vector<uint8_t>& rgb) {
  if (width <= 0 || height <= 0)
    throw Error("PNG size must be positive (got " + std::to_string(width) + "x" + std::to_string(height) + ")");
  const size_t row = 3 * static_cast<size_t>(width);
  if (rgb.size() != row * static_cast<size_t>(height))
    throw Error("PNG pixel buffer has " + std::to_string(rgb.size()) + " bytes, expected " +
                std::to_string(row * height) + " for " + std::to_string(width) + "x" + std::to_string(height) +
                " RGB");
  // Each scanline is prefixed with filter type 0 (none).
  std::string raw;
  raw.reserve((row + 1) * height);
  for (int y = 0; y < height; ++y) {
    raw.push_back('\0');
    raw.append(reinterpret_cast<const char*>(rgb.data() + y * row), row);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                     reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 6);
  if (rc != Z_OK) throw Error("PNG compression failed (zlib error " + std::to_string(rc) + ")");
  packed.resize(packed_size);

  std::string out = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_u32(ihdr, static_cast<uint32_t>(width));
  put_u32(ihdr, static_cast<uint32_t>(height));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit, truecolour, deflate, filter 0, no interlace
  put_chunk(out, "IHDR", ihdr);
  put_chunk(out, "IDAT", packed);
  put_chunk(out, "IEND", "");
  return out;
}

void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb) {
  std::string png = encode_png(width, height, rgb);
  atomic_write_string(path, png);
}

// ---- Canvas ----------------------------------------------------------------

Rgb palette_color(size_t i) {
  static const Rgb kPalette[10] = {{78, 121, 167}, {242, 142, 43}, {225, 87, 89},  {118, 183, 178},
                                   {89, 161, 79},  {237, 201, 72}, {176, 122, 161}, {255, 157, 167},
                                   {156, 117, 95}, {186, 176, 172}};
  return kPalette[i % 10];
}

Canvas::Canvas(int width, int height, Rgb background) : width_(width), height_(height) {
  if (width <= 0 || height <= 0)
    throw Error("canvas size must be positive (got " + std::to_string(width) + "x" + std::to_string(height) + ")");
  rgb_.resize(3 * static_cast<size_t>(width) * height);
  for (size_t i = 0; i < rgb_.size(); i += 3) {
    rgb_[i] = background.r;
    rgb_[i + 1] = background.g;
    rgb_[i + 2] = background.b;
  }
}

Rgb Canvas::pixel(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return {};
  size_t i = 3 * (static_cast<size_t>(y) * width_ + x);
  return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

void Canvas::set_pixel(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  size_t i = 3 * (static_cast<size_t>(y) * width_ + x);
  rgb_[i] = c.r;
  rgb_[i + 1] = c.g;
  rgb_[i + 2] = c.b;
}

void Canvas::fill_rect(int x0, int y0, int x1, int y1, Rgb c) {
  if (x0 > x1) std::swap(x0, x1);
  if (y0 > y1) std::swap(y0, y1);
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, width_ - 1);
  y1 = std::min(y1, height_ - 1);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) set_pixel(x, y, c);
}

void Canvas::draw_line(int x0, int y0, int x1, int y1, Rgb c, int thickness) {
  thickness = std::min(std::max(thickness, 1), 1000);
  const int lo = -(thickness - 1) / 2, hi = thickness / 2;
  // A line reaching far outside the image is first clipped (Liang-Barsky) to a
  // margin around it, so a wild coordinate neither overflows nor walks for long.
  const double m = thickness + 1.0;
  const double bx0 = -m, by0 = -m, bx1 = width_ - 1 + m, by1 = height_ - 1 + m;
  if (x0 < bx0 || x0 > bx1 || y0 < by0 || y0 > by1 || x1 < bx0 || x1 > bx1 || y1 < by0 || y1 > by1) {
    double fx0 = x0, fy0 = y0, fdx = double(x1) - x0, fdy = double(y1) - y0;
    double t0 = 0, t1 = 1;
    auto clip = [&](double p, double q) {
      if (p == 0) return q >= 0;
      double r = q / p;
      if (p < 0) {
        if (r > t1) return false;
        t0 = std::max(t0, r);
      } else {
        if (r < t0) return false;
        t1 = std::min(t1, r);
      }
      return true;
    };
    if (!(clip(-fdx, fx0 - bx0) && clip(fdx, bx1 - fx0) && clip(-fdy, fy0 - by0) && clip(fdy, by1 - fy0))) return;
    auto to_int = [](double v, double a, double b) { return static_cast<int>(std::lround(std::min(std::max(v, a), b))); };
    int nx0 = to_int(fx0 + t0 * fdx, bx0, bx1), ny0 = to_int(fy0 + t0 * fdy, by0, by1);
    int nx1 = to_int(fx0 + t1 * fdx, bx0, bx1), ny1 = to_int(fy0 + t1 * fdy, by0, by1);
    x0 = nx0, y0 = ny0, x1 = nx1, y1 = ny1;
  }
  // Bresenham; every step stamps a thickness x thickness square.
  int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  while (true) {
    if (thickness == 1)
      set_pixel(x0, y0, c);
    else
      fill_rect(x0 + lo, y0 + lo, x0 + hi, y0 + hi, c);
    if (x0 == x1 && y0 == y1) break;
    int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

int Canvas::char_count(const std::string& text) {
  int n = 0;
  for_each_glyph(text, [&](const uint16_t*) { ++n; });
  return n;
}

int Canvas::text_width(const std::string& text, int scale) {
  int n = char_count(text);
  return n == 0 ? 0 : (n * kAdvance - 1) * scale;
}

void Canvas::draw_text(int x, int y, const std::string& text, Rgb c, int scale) {
  scale = std::max(scale, 1);
  int cx = x;
  for_each_glyph(text, [&](const uint16_t* glyph) {
    for (int col = 0; col < 5; ++col)
      for (int row = 0; row < kCellRows; ++row)
        if (glyph[col] & (1 << row))
          fill_rect(cx + col * scale, y + row * scale, cx + (col + 1) * scale - 1, y + (row + 1) * scale - 1, c);
    cx += kAdvance * scale;
  });
}

// ---- Charts ----------------------------------------------------------------

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi))
    throw Error("axis range must be finite (got " + std::to_string(lo) + " .. " + std::to_string(hi) + ")");
  if (lo > hi) std::swap(lo, hi);
  target = std::max(target, 2);
  if (hi - lo <= 1e-12 * std::max(std::fabs(lo), std::fabs(hi)) || hi == lo) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / (target - 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double m = raw / mag;
  double step = (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * mag;
  // Integer multiples of the step (no accumulated rounding); the tolerance keeps
  // a bound that is already a multiple (0.8 / 0.01 = 79.999...) from adding a tick.
  double k0 = std::floor(lo / step + 1e-9), k1 = std::ceil(hi / step - 1e-9);
  std::vector<double> ticks;
  for (double k = k0; k <= k1; k += 1) {
    double v = k * step;
    // Round to the step's decimal precision so labels and comparisons are clean.
    int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
    double p = std::pow(10.0, decimals);
    v = std::round(v * p) / p;
    ticks.push_back(v == 0 ? 0.0 : v);  // no -0
  }
  return ticks;
}

namespace {

const Rgb kBlack{0, 0, 0};
const Rgb kText{40, 40, 40};
const Rgb kAxis{90, 90, 90};
const Rgb kGrid{225, 225, 225};
const Rgb kErrorBar{50, 50, 50};

std::string format_tick(double v, double step) {
  int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  if (std::fabs(v) >= 1e7 || (v != 0 && std::fabs(v) < 1e-6)) decimals = -1;
  char buf[64];
  if (decimals < 0)
    std::snprintf(buf, sizeof(buf), "%.3g", v);
  else
    std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// `text` cut to at most `max_px` wide at `scale`, ending in ".." when cut.
std::string fit_text(const std::string& text, int max_px, int scale) {
  if (Canvas::text_width(text, scale) <= max_px) return text;
  int max_chars = (max_px + 1) / (kAdvance * scale);
  if (max_chars <= 0) return "";
  if (max_chars <= 2) return std::string(static_cast<size_t>(max_chars), '.');
  // Cut at a character (not UTF-8 byte) boundary.
  std::string out;
  int n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(text[i]);
    bool starts_char = !(ch >= 0x80 && ch < 0xC0);
    if (starts_char && n == max_chars - 2) break;
    if (starts_char) ++n;
    out.push_back(text[i]);
  }
  return out + "..";
}

void validate(const char* kind, const std::string& path, const std::vector<std::string>& labels,
              const std::vector<Series>& series, const ChartOptions& opt, const char* label_word) {
  std::string where = std::string(kind) + " '" + path + "': ";
  if (labels.empty()) throw Error(where + "no " + label_word + " to plot (the list is empty)");
  if (series.empty()) throw Error(where + "no series to plot");
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    std::string name = s.name.empty() ? "#" + std::to_string(i) : "'" + s.name + "'";
    if (s.values.size() != labels.size())
      throw Error(where + "series " + name + " has " + std::to_string(s.values.size()) + " values but there are " +
                  std::to_string(labels.size()) + " " + label_word);
    if (!s.errors.empty() && s.errors.size() != s.values.size())
      throw Error(where + "series " + name + " has " + std::to_string(s.errors.size()) + " error values for " +
                  std::to_string(s.values.size()) + " values (give one per value, or none)");
  }
  if (opt.width < 200 || opt.height < 150 || opt.width > 10000 || opt.height > 10000)
    throw Error(where + "chart size " + std::to_string(opt.width) + "x" + std::to_string(opt.height) +
                " is outside 200x150 .. 10000x10000");
}

// Axes, gridlines, labels and legend shared by both chart kinds; maps values to pixels.
struct Frame {
  int left = 0, right = 0, top = 0, bottom = 0;  // plot area, inclusive pixel bounds
  double y_min = 0, y_max = 1;
  int scale = 1;  // text scale of tick labels, legend and category labels

  int py(double v) const {
    double f = (v - y_min) / (y_max - y_min);
    return static_cast<int>(std::lround(bottom - f * (bottom - top)));
  }
  int clamp_y(int y) const { return std::min(std::max(y, top), bottom); }
  double slot() const { return static_cast<double>(right - left + 1) / n_slots; }
  int n_slots = 1;
};

bool has_error(const Series& s, size_t i) {
  return !s.errors.empty() && std::isfinite(s.errors[i]) && s.errors[i] != 0;
}

Frame draw_frame(Canvas& c, const std::vector<std::string>& labels, const std::vector<Series>& series,
                 const ChartOptions& opt, bool bars) {
  Frame f;
  f.n_slots = static_cast<int>(labels.size());
  f.scale = (opt.width >= 1200 && opt.height >= 700) ? 2 : 1;
  const int s = f.scale;
  const int pad = 12 * s;
  const int line_h = Canvas::text_height(s), cap_h = Canvas::cap_height(s);

  // y range from the data (and error bars), padded; 0 included on request.
  double lo = INFINITY, hi = -INFINITY;
  for (const Series& ser : series)
    for (size_t i = 0; i < ser.values.size(); ++i) {
      double v = ser.values[i];
      if (!std::isfinite(v)) continue;
      double e = has_error(ser, i) ? std::fabs(ser.errors[i]) : 0;
      lo = std::min(lo, v - e);
      hi = std::max(hi, v + e);
    }
  if (lo > hi) {  // nothing finite to plot: an empty 0..1 frame
    lo = 0;
    hi = 1;
  }
  if (opt.y_from_zero) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  double span = hi - lo;
  if (span > 0) {
    if (!(opt.y_from_zero && lo == 0)) lo -= 0.05 * span;
    if (!(opt.y_from_zero && hi == 0)) hi += 0.05 * span;
  }
  std::vector<double> ticks = nice_ticks(lo, hi, 5);
  f.y_min = ticks.front();
  f.y_max = ticks.back();
  double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  std::vector<std::string> tick_text;
  int tick_w = 0;
  for (double t : ticks) {
    tick_text.push_back(format_tick(t, step));
    tick_w = std::max(tick_w, Canvas::text_width(tick_text.back(), s));
  }

  // Horizontal layout.
  f.left = pad + tick_w + 8 * s;
  f.right = opt.width - 1 - pad - 8 * s;

  // Vertical layout, top down: title, legend rows, y-axis label, plot.
  int y = pad;
  if (!opt.title.empty()) {
    int ts = s + 1;
    std::string title = fit_text(opt.title, opt.width - 2 * pad, ts);
    c.draw_text((opt.width - Canvas::text_width(title, ts)) / 2, y, title, kBlack, ts);
    y += Canvas::text_height(ts) + 10 * s;
  }
  // Legend: "[swatch] name" items, centred rows, wrapped to the plot width.
  {
    const int sw = 9 * s, gap = 5 * s, item_gap = 18 * s, row_h = std::max(sw, line_h) + 6 * s;
    const int avail = f.right - f.left + 1;
    std::vector<std::pair<std::string, int>> items;  // text, item width
    for (size_t i = 0; i < series.size(); ++i) {
      std::string name = series[i].name.empty() ? "series " + std::to_string(i + 1) : series[i].name;
      name = fit_text(name, avail - sw - gap, s);
      items.emplace_back(name, sw + gap + Canvas::text_width(name, s));
    }
    size_t i = 0;
    while (i < items.size()) {
      size_t j = i;
      int row_w = 0;
      while (j < items.size() && (j == i || row_w + item_gap + items[j].second <= avail)) {
        row_w += (j == i ? 0 : item_gap) + items[j].second;
        ++j;
      }
      int x = f.left + (avail - row_w) / 2;
      for (size_t k = i; k < j; ++k) {
        int sy = y + (row_h - 6 * s - sw) / 2;
        c.fill_rect(x, sy, x + sw - 1, sy + sw - 1, palette_color(k));
        c.draw_text(x + sw + gap, sy + (sw - cap_h) / 2, items[k].first, kText, s);
        x += items[k].second + item_gap;
      }
      y += row_h;
      i = j;
    }
  }
  if (!opt.y_label.empty()) {
    y += 2 * s;
    c.draw_text(pad, y, fit_text(opt.y_label, opt.width - 2 * pad, s), kText, s);
    y += line_h + 6 * s;
  }
  f.top = y + cap_h / 2 + 2 * s;  // room for the top tick label, centred on its gridline
  int bottom_room = pad + 6 * s + line_h;  // category labels
  if (!opt.x_label.empty()) bottom_room += 10 * s + line_h;
  f.bottom = opt.height - 1 - bottom_room;
  if (f.bottom - f.top < 40 || f.right - f.left < 40)
    throw Error("chart is too small for its title, legend and labels (" + std::to_string(opt.width) + "x" +
                std::to_string(opt.height) + "); make it larger or shorten the labels");

  // Gridlines, tick marks and tick labels.
  for (size_t k = 0; k < ticks.size(); ++k) {
    int ty = f.py(ticks[k]);
    c.draw_line(f.left, ty, f.right, ty, kGrid);
    c.draw_line(f.left - 4 * s, ty, f.left - 1, ty, kAxis, s);
    c.draw_text(f.left - 7 * s - Canvas::text_width(tick_text[k], s), ty - cap_h / 2, tick_text[k], kText, s);
  }

  // Category / x labels under their slots; when they cannot fit even shortened,
  // only every k-th label is drawn.
  const double slot = f.slot();
  size_t longest = 0;
  for (const auto& l : labels) longest = std::max(longest, static_cast<size_t>(Canvas::char_count(l)));
  const int want_chars = static_cast<int>(std::min<size_t>(longest, 4));
  int every = 1;
  while (every < f.n_slots && (every * slot - 4 * s) < want_chars * kAdvance * s) ++every;
  for (int i = 0; i < f.n_slots; i += every) {
    int max_px = static_cast<int>(every * slot) - 4 * s;
    std::string text = fit_text(labels[i], max_px, s);
    int cx = static_cast<int>(std::lround(f.left + (i + 0.5) * slot));
    c.draw_text(cx - Canvas::text_width(text, s) / 2, f.bottom + 6 * s, text, kText, s);
    if (!bars) c.draw_line(cx, f.bottom + 1, cx, f.bottom + 3 * s, kAxis, s);
  }
  if (!opt.x_label.empty()) {
    std::string text = fit_text(opt.x_label, f.right - f.left, s);
    c.draw_text((f.left + f.right - Canvas::text_width(text, s)) / 2, f.bottom + 6 * s + line_h + 10 * s, text,
                kText, s);
  }
  return f;
}

void draw_axes(Canvas& c, const Frame& f) {
  if (f.y_min < 0 && f.y_max > 0) c.draw_line(f.left, f.py(0), f.right, f.py(0), kAxis);  // zero line
  c.draw_line(f.left, f.top, f.left, f.bottom, kAxis, f.scale);
  c.draw_line(f.left, f.bottom, f.right, f.bottom, kAxis, f.scale);
}

// Vertical error bar at x from v - e to v + e with caps, clipped to the plot area.
void draw_error_bar(Canvas& c, const Frame& f, int x, double v, double e, int cap_half, Rgb colour) {
  e = std::fabs(e);
  int y0 = f.py(v + e), y1 = f.py(v - e);
  int cy0 = f.clamp_y(y0), cy1 = f.clamp_y(y1);
  c.draw_line(x, cy0, x, cy1, colour, f.scale);
  if (y0 >= f.top) c.draw_line(x - cap_half, y0, x + cap_half, y0, colour, f.scale);
  if (y1 <= f.bottom) c.draw_line(x - cap_half, y1, x + cap_half, y1, colour, f.scale);
}

}  // namespace

void write_bar_chart(const std::string& path, const std::vector<std::string>& categories,
                     const std::vector<Series>& series, const ChartOptions& opt) {
  validate("bar chart", path, categories, series, opt, "categories");
  Canvas c(opt.width, opt.height);
  Frame f = draw_frame(c, categories, series, opt, true);
  const double slot = f.slot();
  const double group_w = slot * 0.8;
  const double bar_w = group_w / static_cast<double>(series.size());
  const int inner_gap = bar_w >= 6 ? 1 : 0;
  double base = f.y_min > 0 ? f.y_min : (f.y_max < 0 ? f.y_max : 0.0);
  int base_y = f.py(base);
  for (size_t g = 0; g < categories.size(); ++g) {
    double gx = f.left + g * slot + (slot - group_w) / 2;
    for (size_t k = 0; k < series.size(); ++k) {
      double v = series[k].values[g];
      if (!std::isfinite(v)) continue;
      int x0 = static_cast<int>(std::lround(gx + k * bar_w));
      int x1 = std::max(x0, static_cast<int>(std::lround(gx + (k + 1) * bar_w)) - 1 - inner_gap);
      int vy = f.clamp_y(f.py(v));
      c.fill_rect(x0, base_y, x1, vy, palette_color(k));
    }
  }
  draw_axes(c, f);
  // Error bars over the bars (and the axis line).
  for (size_t g = 0; g < categories.size(); ++g) {
    double gx = f.left + g * slot + (slot - group_w) / 2;
    for (size_t k = 0; k < series.size(); ++k) {
      double v = series[k].values[g];
      if (!std::isfinite(v) || !has_error(series[k], g)) continue;
      int cx = static_cast<int>(std::lround(gx + (k + 0.5) * bar_w));
      int cap = std::max(1, std::min(static_cast<int>(bar_w / 4), 6 * f.scale));
      draw_error_bar(c, f, cx, v, series[k].errors[g], cap, kErrorBar);
    }
  }
  c.save_png(path);
}

void write_line_chart(const std::string& path, const std::vector<std::string>& x_labels,
                      const std::vector<Series>& series, const ChartOptions& opt) {
  validate("line chart", path, x_labels, series, opt, "x labels");
  Canvas c(opt.width, opt.height);
  Frame f = draw_frame(c, x_labels, series, opt, false);
  draw_axes(c, f);
  const double slot = f.slot();
  const int s = f.scale;
  auto px = [&](size_t i) { return static_cast<int>(std::lround(f.left + (i + 0.5) * slot)); };
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& ser = series[k];
    Rgb colour = palette_color(k);
    for (size_t i = 0; i < ser.values.size(); ++i) {
      if (!std::isfinite(ser.values[i]) || !has_error(ser, i)) continue;
      draw_error_bar(c, f, px(i), ser.values[i], ser.errors[i], 4 * s, colour);
    }
    for (size_t i = 0; i + 1 < ser.values.size(); ++i) {
      if (!std::isfinite(ser.values[i]) || !std::isfinite(ser.values[i + 1])) continue;
      c.draw_line(px(i), f.py(ser.values[i]), px(i + 1), f.py(ser.values[i + 1]), colour, 2 * s);
    }
    for (size_t i = 0; i < ser.values.size(); ++i) {
      if (!std::isfinite(ser.values[i])) continue;
      int x = px(i), y = f.py(ser.values[i]);
      c.fill_rect(x - 3 * s, y - 3 * s, x + 3 * s, y + 3 * s, colour);
    }
  }
  c.save_png(path);
}

}  // namespace clickprompt::core
