#pragma once
// PNG charts without a plotting library: a minimal PNG encoder (RGB 8-bit, zlib),
// a raster canvas (lines, rectangles, 5x7 bitmap text), and grouped bar and line
// charts with a "nice" y-axis, gridlines, error bars and a legend. Used to draw
// run comparisons (e.g. AUC per model) into report folders.
#include <cstdint>
#include <string>
#include <vector>

namespace clickprompt::core {

// ---- PNG -------------------------------------------------------------------

// PNG bytes of a width x height image; `rgb` holds rows top to bottom, 3 bytes a pixel.
std::string encode_png(int width, int height, const std::vector<uint8_t>& rgb);
// encode_png written atomically to `path` (parent folders created).
void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

// ---- Canvas ----------------------------------------------------------------

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

// Colour `i` of the fixed series palette (Tableau 10; wraps around after 10).
Rgb palette_color(size_t i);

// An RGB raster; drawing outside the image is clipped.
class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});

  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<uint8_t>& pixels() const { return rgb_; }
  Rgb pixel(int x, int y) const;

  void set_pixel(int x, int y, Rgb c);
  // Filled rectangle [x0, x1] x [y0, y1] (inclusive, corners in any order).
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);
  // Straight line of any slope (Bresenham), `thickness` pixels wide.
  void draw_line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1);
  // Text with its top-left corner at (x, y). Glyphs are 5x7 pixels (capitals sit on
  // row 6; descenders of g j p q y reach rows 7-8) on a 6-pixel advance, times
  // `scale`. Printable ASCII is drawn; anything else (a whole UTF-8 sequence
  // counts as one character) is drawn as a box.
  void draw_text(int x, int y, const std::string& text, Rgb c, int scale = 1);
  static int text_width(const std::string& text, int scale = 1);  // last column lit to first
  static int cap_height(int scale = 1) { return 7 * scale; }      // top to baseline
  static int text_height(int scale = 1) { return 9 * scale; }     // with descenders
  // Number of characters draw_text counts in `text` (UTF-8 sequences count once).
  static int char_count(const std::string& text);

  void save_png(const std::string& path) const { write_png(path, width_, height_, rgb_); }

 private:
  int width_, height_;
  std::vector<uint8_t> rgb_;
};

// ---- Charts ----------------------------------------------------------------

// About `target` evenly spaced round tick values (steps of 1, 2 or 5 x 10^k)
// covering [lo, hi]: the first is <= lo and the last >= hi. lo == hi is widened;
// lo > hi is swapped. Throws Error for non-finite bounds.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

struct Series {
  std::string name;
  std::vector<double> values;  // one per category / x label; NaN = missing (skipped)
  std::vector<double> errors;  // optional, same length: error bars +- errors[i] (e.g. std)
};

struct ChartOptions {
  std::string title, x_label, y_label;  // y_label is drawn above the y-axis
  int width = 800, height = 500;
  bool y_from_zero = false;  // include 0 in the y range (bars then start at 0)
};

// Grouped bars: one group per category, one bar per series (palette colour),
// optional error bars, legend, ~5 y ticks with gridlines. Bars start at 0 when 0
// is in the y range, otherwise at the bottom of the axis. Long category labels
// are shortened to fit their group. Throws Error when categories or series are
// empty, a series length differs from the categories, or the size is unusable.
void write_bar_chart(const std::string& path, const std::vector<std::string>& categories,
                     const std::vector<Series>& series, const ChartOptions& opt);

// One polyline with square point markers per series over evenly spaced x labels;
// NaN values break the line. Same axes, legend and errors as write_bar_chart.
void write_line_chart(const std::string& path, const std::vector<std::string>& x_labels,
                      const std::vector<Series>& series, const ChartOptions& opt);

}  // namespace clickprompt::core
