#pragma once
// Figures of the experiment report, drawn with cairo (vector output, real
// fonts through fontconfig): grouped bars with error bars and line charts over
// categorical x values, each written as SVG, PDF and PNG.
//
// Why cairo and not PLplot (docs/clickprompt.md): cairo's SVG, PDF and PNG
// surfaces share one drawing path; libplplot-dev pulls 27 more packages here
// (Qt 5, wxWidgets) and its cairo driver draws through the same cairo.
#include <string>
#include <vector>

namespace clickprompt::report {

struct Series {
  std::string name;
  std::vector<double> values;  // one per x category; NaN = no value (not drawn)
  std::vector<double> errors;  // +- per value (std over seeds); empty = none
};

struct Chart {
  enum class Kind { bars, lines };
  Kind kind = Kind::bars;
  std::string title, x_label, y_label;
  std::vector<std::string> x;  // categories
  std::vector<Series> series;
  int width = 900, height = 480;  // points (PNG: pixels)
};

struct ChartFiles {
  std::string svg;                 // the SVG text (for inlining)
  std::vector<std::string> paths;  // <stem>.svg, .pdf, .png
};

// The chart in each format; Error when it has no category or a series' length differs.
std::string render_svg(const Chart& c);
std::string render_pdf(const Chart& c);
std::string render_png(const Chart& c);
// Writes <stem>.svg, <stem>.pdf and <stem>.png atomically.
ChartFiles write_chart(const Chart& c, const std::string& stem);

// "Nice" axis ticks covering [lo, hi]: about 8 steps of 1, 2 or 5 x 10^k.
std::vector<double> nice_ticks(double lo, double hi);

}  // namespace clickprompt::report
