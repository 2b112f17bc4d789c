// Tests for core/plot: the PNG encoder (read back and inflated with zlib),
// nice axis ticks, text and line drawing on the canvas, and bar/line charts.
#include "core/plot.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <set>
#include <tuple>

#include "core/error.h"
#include "core/io.h"
#include "test_util.h"

using namespace clickprompt;
using core::Rgb;

namespace {

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// A PNG read back independently of the encoder: chunks walked, CRCs checked,
// IDAT inflated and unfiltered (the encoder only uses filter 0).
struct DecodedPng {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  Rgb at(int x, int y) const {
    size_t i = 3 * (size_t(y) * width + x);
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
  std::set<std::tuple<int, int, int>> colours() const {
    std::set<std::tuple<int, int, int>> out;
    for (size_t i = 0; i < rgb.size(); i += 3) out.insert({rgb[i], rgb[i + 1], rgb[i + 2]});
    return out;
  }
  bool has(Rgb c) const { return colours().count({c.r, c.g, c.b}) > 0; }
};

DecodedPng decode(const std::string& png) {
  DecodedPng d;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::string idat;
  std::vector<std::string> types;
  size_t at = 8;
  while (at + 12 <= png.size()) {
    uint32_t len = be32(png, at);
    std::string type = png.substr(at + 4, 4);
    std::string data = png.substr(at + 8, len);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(png.data() + at + 4), len + 4);
    EXPECT_EQ(be32(png, at + 8 + len), uint32_t(crc)) << "CRC of chunk " << type;
    types.push_back(type);
    if (type == "IHDR") {
      EXPECT_EQ(len, 13u);
      d.width = int(be32(data, 0));
      d.height = int(be32(data, 4));
      EXPECT_EQ(data.substr(8), std::string("\x08\x02\x00\x00\x00", 5));  // 8-bit RGB, no interlace
    } else if (type == "IDAT") {
      idat += data;
    }
    at += 12 + len;
  }
  EXPECT_EQ(at, png.size());
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  const size_t expected = size_t(d.height) * (1 + 3 * size_t(d.width));
  std::vector<uint8_t> raw(expected + 16);  // room to notice extra bytes
  uLongf raw_len = raw.size();
  EXPECT_EQ(uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()), Z_OK);
  EXPECT_EQ(raw_len, expected);
  if (raw_len != expected) return d;
  for (int y = 0; y < d.height; ++y) {
    const uint8_t* row = raw.data() + size_t(y) * (1 + 3 * d.width);
    EXPECT_EQ(row[0], 0) << "filter byte of row " << y;
    d.rgb.insert(d.rgb.end(), row + 1, row + 1 + 3 * d.width);
  }
  return d;
}

DecodedPng decode_file(const std::string& path) { return decode(core::read_file(path)); }

// Height in pixels of the tallest vertical run of colour c in columns [x0, x1).
int tallest_column(const DecodedPng& d, Rgb c, int x0, int x1) {
  int best = 0;
  for (int x = x0; x < x1; ++x) {
    int run = 0;
    for (int y = 0; y < d.height; ++y) {
      run = d.at(x, y) == c ? run + 1 : 0;
      best = std::max(best, run);
    }
  }
  return best;
}

}  // namespace

TEST(Png, EncodesPixelsExactly) {
  test_util::TempDir dir;
  const int w = 7, h = 3;
  std::vector<uint8_t> rgb(3 * w * h);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = uint8_t(i * 37 % 251);
  core::write_png(dir.file("a/b.png"), w, h, rgb);  // parent folder created
  DecodedPng d = decode_file(dir.file("a/b.png"));
  EXPECT_EQ(d.width, w);
  EXPECT_EQ(d.height, h);
  EXPECT_EQ(d.rgb, rgb);
  EXPECT_THROW(core::encode_png(w, h, std::vector<uint8_t>(10)), Error);
  EXPECT_THROW(core::encode_png(0, h, {}), Error);
}

TEST(NiceTicks, RoundSteps) {
  auto t = core::nice_ticks(0.803, 0.845, 5);
  ASSERT_EQ(t.size(), 6u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], 0.80 + 0.01 * i, 1e-12) << i;
  EXPECT_EQ(core::nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  EXPECT_EQ(core::nice_ticks(0, 97, 5), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(core::nice_ticks(-3.2, 7.9, 5), (std::vector<double>{-4, -2, 0, 2, 4, 6, 8}));
  EXPECT_EQ(core::nice_ticks(1200, 3100, 5), (std::vector<double>{1000, 1500, 2000, 2500, 3000, 3500}));
  // Bounds already on the grid add no extra tick; reversed bounds are swapped.
  EXPECT_EQ(core::nice_ticks(0.8, 0.85, 5).size(), 6u);
  EXPECT_EQ(core::nice_ticks(0.85, 0.8, 5).front(), 0.8);
  // A single value is widened around it.
  auto one = core::nice_ticks(0.5, 0.5, 5);
  EXPECT_LT(one.front(), 0.5);
  EXPECT_GT(one.back(), 0.5);
  EXPECT_THROW(core::nice_ticks(0, INFINITY, 5), Error);
}

TEST(Canvas, TextLinesAndRects) {
  core::Canvas c(40, 20);
  const Rgb black{0, 0, 0}, white{255, 255, 255};
  EXPECT_EQ(core::Canvas::text_width("abc"), 17);  // 3 glyphs * 6 - 1
  EXPECT_EQ(core::Canvas::text_width("abc", 2), 34);
  EXPECT_EQ(core::Canvas::char_count("caf\xc3\xa9"), 4);  // the UTF-8 e-acute counts once
  c.draw_text(0, 0, "I", black);
  // 'I' is a vertical bar in column 2 (rows 0..6) with serifs in columns 1 and 3.
  int lit = 0;
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 6; ++x) lit += c.pixel(x, y) == black ? 1 : 0;
  EXPECT_EQ(lit, 11);
  for (int y = 0; y < 7; ++y) EXPECT_EQ(c.pixel(2, y), black) << y;
  EXPECT_EQ(c.pixel(0, 3), white);
  // A character outside ASCII is a 5x7 box outline: 5+5+5+5-4 = 20 pixels.
  core::Canvas box(10, 10);
  box.draw_text(0, 0, "\x01", black);
  lit = 0;
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) lit += box.pixel(x, y) == black ? 1 : 0;
  EXPECT_EQ(lit, 20);
  // A diagonal line hits both ends and one pixel per column.
  core::Canvas l(20, 20);
  l.draw_line(2, 3, 17, 11, black);
  EXPECT_EQ(l.pixel(2, 3), black);
  EXPECT_EQ(l.pixel(17, 11), black);
  for (int x = 2; x <= 17; ++x) {
    int n = 0;
    for (int y = 0; y < 20; ++y) n += l.pixel(x, y) == black ? 1 : 0;
    EXPECT_EQ(n, 1) << x;
  }
  // Rectangles clip at the border; lines far outside are clipped, not walked.
  l.fill_rect(15, 15, 100, 100, Rgb{9, 9, 9});
  EXPECT_EQ(l.pixel(19, 19), (Rgb{9, 9, 9}));
  l.draw_line(-2000000000, 5, 2000000000, 5, Rgb{1, 2, 3}, 3);
  EXPECT_EQ(l.pixel(0, 5), (Rgb{1, 2, 3}));
  EXPECT_EQ(l.pixel(19, 6), (Rgb{1, 2, 3}));
}

TEST(BarChart, WritesAValidNonBlankPng) {
  test_util::TempDir dir;
  core::ChartOptions opt;
  opt.title = "AUC by model";
  opt.y_label = "AUC";
  opt.x_label = "model";
  opt.width = 640;
  opt.height = 400;
  std::vector<core::Series> series = {{"ml-1m", {0.81, 0.83, NAN}, {0.002, 0.001, 0.0}},
                                      {"bx", {0.78, 0.80, 0.79}, {}}};
  core::write_bar_chart(dir.file("bar.png"), {"fm", "dnn", "a_very_long_model_name_that_cannot_fit"}, series, opt);
  DecodedPng d = decode_file(dir.file("bar.png"));
  EXPECT_EQ(d.width, 640);
  EXPECT_EQ(d.height, 400);
  EXPECT_GE(d.colours().size(), 5u);  // background, text, grid, two series colours
  EXPECT_TRUE(d.has(core::palette_color(0)));
  EXPECT_TRUE(d.has(core::palette_color(1)));
  EXPECT_FALSE(d.has(core::palette_color(2)));  // only two series
  EXPECT_EQ(d.at(0, 0), (Rgb{255, 255, 255}));
}

TEST(BarChart, BarHeightsAreProportionalFromZero) {
  test_util::TempDir dir;
  core::ChartOptions opt;
  opt.y_from_zero = true;
  // One series, values 1 and 2 (axis 0..2): the second bar is twice as tall.
  core::write_bar_chart(dir.file("bar.png"), {"a", "b"}, {{"s", {1.0, 2.0}, {}}}, opt);
  DecodedPng d = decode_file(dir.file("bar.png"));
  Rgb c0 = core::palette_color(0);
  int h1 = tallest_column(d, c0, 0, d.width / 2), h2 = tallest_column(d, c0, d.width / 2, d.width);
  ASSERT_GT(h1, 50) << h2;
  EXPECT_NEAR(double(h2) / h1, 2.0, 0.02) << h1 << " " << h2;
  EXPECT_GT(h2, d.height / 2);  // the axis ends at 2: the tall bar fills most of the plot
}

TEST(LineChart, WritesAValidNonBlankPng) {
  test_util::TempDir dir;
  core::ChartOptions opt;
  opt.title = "Validation AUC";
  opt.x_label = "epoch";
  std::vector<std::string> x;
  std::vector<double> a, b;
  for (int i = 0; i < 30; ++i) {
    x.push_back(std::to_string(i + 1));
    a.push_back(0.8 + 0.001 * i);
    b.push_back(i == 10 ? NAN : 0.79 + 0.0012 * i);
  }
  core::write_line_chart(dir.file("line.png"), x, {{"train", a, {}}, {"valid", b, std::vector<double>(30, 0.002)}},
                         opt);
  DecodedPng d = decode_file(dir.file("line.png"));
  EXPECT_EQ(d.width, 800);
  EXPECT_EQ(d.height, 500);
  EXPECT_GE(d.colours().size(), 5u);
  EXPECT_TRUE(d.has(core::palette_color(0)));
  EXPECT_TRUE(d.has(core::palette_color(1)));
  // The lines climb to the right: series 0 pixels reach higher in the right third.
  auto top_of = [&](int x0, int x1) {
    for (int y = 0; y < d.height; ++y)
      for (int x = x0; x < x1; ++x)
        if (d.at(x, y) == core::palette_color(0) && y > 80) return y;  // below the legend
    return d.height;
  };
  EXPECT_LT(top_of(2 * d.width / 3, d.width), top_of(0, d.width / 3));
}

TEST(Charts, RejectBadInput) {
  test_util::TempDir dir;
  core::ChartOptions opt;
  std::string msg = test_util::error_of(
      [&] { core::write_bar_chart(dir.file("x.png"), {"a", "b", "c"}, {{"auc", {0.1, 0.2}, {}}}, opt); });
  EXPECT_NE(msg.find("series 'auc' has 2 values but there are 3 categories"), std::string::npos) << msg;
  msg = test_util::error_of([&] { core::write_bar_chart(dir.file("x.png"), {}, {{"auc", {}, {}}}, opt); });
  EXPECT_NE(msg.find("no categories"), std::string::npos) << msg;
  msg = test_util::error_of(
      [&] { core::write_line_chart(dir.file("x.png"), {"1", "2"}, {{"auc", {0.1, 0.2}, {0.1}}}, opt); });
  EXPECT_NE(msg.find("1 error values for 2 values"), std::string::npos) << msg;
  msg = test_util::error_of([&] { core::write_line_chart(dir.file("x.png"), {"1"}, {}, opt); });
  EXPECT_NE(msg.find("no series"), std::string::npos) << msg;
  core::ChartOptions tiny;
  tiny.width = 50;
  EXPECT_THROW(core::write_bar_chart(dir.file("x.png"), {"a"}, {{"s", {1.0}, {}}}, tiny), Error);
  EXPECT_FALSE(core::file_exists(dir.file("x.png")));
  // All values missing still draws an (empty) chart.
  core::write_bar_chart(dir.file("nan.png"), {"a"}, {{"s", {NAN}, {}}}, opt);
  EXPECT_EQ(decode_file(dir.file("nan.png")).width, 800);
}
