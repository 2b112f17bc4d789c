#include "report/chart.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"
#include "core/io.h"

namespace clickprompt::report {

namespace {

struct Rgb {
  double r, g, b;
};
// Tableau 10.
Rgb color(size_t i) {
  static const Rgb p[] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173}, {0.839, 0.153, 0.157},
                          {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294}, {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498},
                          {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812}};
  return p[i % 10];
}

void check(const Chart& c) {
  if (c.x.empty()) throw Error("chart '" + c.title + "': no categories");
  if (c.width < 200 || c.height < 150) throw Error("chart '" + c.title + "': at least 200 x 150");
  for (const auto& s : c.series) {
    if (s.values.size() != c.x.size())
      throw Error("chart '" + c.title + "': series '" + s.name + "' has " + std::to_string(s.values.size()) +
                  " values for " + std::to_string(c.x.size()) + " categories");
    if (!s.errors.empty() && s.errors.size() != s.values.size())
      throw Error("chart '" + c.title + "': series '" + s.name + "' has errors of another length");
  }
}

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

// Text anchored at (x, y): ax 0 left / 0.5 centre / 1 right; y is the baseline.
void text(cairo_t* cr, double x, double y, const std::string& s, double ax = 0, double angle = 0) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, -ax * text_width(cr, s), 0);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

std::string tick_label(double v, double step) {
  int digits = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  char b[32];
  std::snprintf(b, sizeof(b), "%.*f", digits, v);
  return b;
}

void draw(cairo_t* cr, const Chart& c) {
  const double W = c.width, H = c.height;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 12);

  // The value range, error bars included.
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : c.series)
    for (size_t i = 0; i < s.values.size(); ++i) {
      double v = s.values[i], e = s.errors.empty() || std::isnan(s.errors[i]) ? 0 : s.errors[i];
      if (std::isnan(v)) continue;
      lo = std::min(lo, v - e);
      hi = std::max(hi, v + e);
    }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) lo -= 0.01, hi += 0.01;
  const auto ticks = nice_ticks(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
  const double y0v = ticks.front(), y1v = ticks.back(), step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;

  // Layout: title, legend row, plot, x labels (rotated when they do not fit).
  double left = 20;
  for (double t : ticks) left = std::max(left, text_width(cr, tick_label(t, step)) + 18);
  left += c.y_label.empty() ? 0 : 18;
  const double top = c.title.empty() ? 14 : 34, legend_h = c.series.size() > 1 ? 22 : 0;
  double label_w = 0;
  for (const auto& x : c.x) label_w = std::max(label_w, text_width(cr, x));
  const double slot = (W - left - 16) / static_cast<double>(c.x.size());
  const bool rotate = label_w > slot - 4;
  const double bottom = (rotate ? label_w * 0.6 + 24 : 26) + (c.x_label.empty() ? 0 : 20);
  const double px0 = left, px1 = W - 16, py0 = top + legend_h + 6, py1 = H - bottom;
  auto ypos = [&](double v) { return py1 - (v - y0v) / (y1v - y0v) * (py1 - py0); };

  if (!c.title.empty()) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 14);
    text(cr, W / 2, 22, c.title, 0.5);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
  }
  // Grid and y ticks.
  cairo_set_line_width(cr, 1);
  for (double t : ticks) {
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, px0, ypos(t));
    cairo_line_to(cr, px1, ypos(t));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    text(cr, px0 - 6, ypos(t) + 4, tick_label(t, step), 1);
  }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, px0, py0, px1 - px0, py1 - py0);
  cairo_stroke(cr);
  if (!c.y_label.empty()) text(cr, 16, (py0 + py1) / 2, c.y_label, 0.5, -M_PI / 2);
  for (size_t i = 0; i < c.x.size(); ++i) {
    const double cx = px0 + slot * (i + 0.5);
    if (rotate)
      text(cr, cx + 4, py1 + 14, c.x[i], 1, -M_PI / 6);
    else
      text(cr, cx, py1 + 16, c.x[i], 0.5);
  }
  if (!c.x_label.empty()) text(cr, (px0 + px1) / 2, H - 8, c.x_label, 0.5);

  // Series.
  const size_t ns = std::max<size_t>(1, c.series.size());
  auto error_bar = [&](double x, double v, double e) {
    if (std::isnan(e) || e <= 0) return;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 1.2);
    cairo_move_to(cr, x, ypos(v - e));
    cairo_line_to(cr, x, ypos(v + e));
    for (double y : {v - e, v + e}) {
      cairo_move_to(cr, x - 4, ypos(y));
      cairo_line_to(cr, x + 4, ypos(y));
    }
    cairo_stroke(cr);
  };
  for (size_t k = 0; k < c.series.size(); ++k) {
    const auto& s = c.series[k];
    const Rgb col = color(k);
    if (c.kind == Chart::Kind::bars) {
      const double bw = slot * 0.8 / static_cast<double>(ns);
      for (size_t i = 0; i < s.values.size(); ++i) {
        if (std::isnan(s.values[i])) continue;
        const double x = px0 + slot * i + slot * 0.1 + bw * k;
        cairo_set_source_rgb(cr, col.r, col.g, col.b);
        cairo_rectangle(cr, x, ypos(s.values[i]), bw * 0.92, py1 - ypos(s.values[i]));
        cairo_fill(cr);
        if (!s.errors.empty()) error_bar(x + bw * 0.46, s.values[i], s.errors[i]);
      }
    } else {
      cairo_set_source_rgb(cr, col.r, col.g, col.b);
      cairo_set_line_width(cr, 2);
      bool pen = false;
      for (size_t i = 0; i < s.values.size(); ++i) {
        if (std::isnan(s.values[i])) {
          pen = false;
          continue;
        }
        const double x = px0 + slot * (i + 0.5), y = ypos(s.values[i]);
        pen ? cairo_line_to(cr, x, y) : cairo_move_to(cr, x, y);
        pen = true;
      }
      cairo_stroke(cr);
      for (size_t i = 0; i < s.values.size(); ++i) {
        if (std::isnan(s.values[i])) continue;
        const double x = px0 + slot * (i + 0.5);
        cairo_set_source_rgb(cr, col.r, col.g, col.b);
        cairo_arc(cr, x, ypos(s.values[i]), 3.5, 0, 2 * M_PI);
        cairo_fill(cr);
        if (!s.errors.empty()) error_bar(x, s.values[i], s.errors[i]);
      }
    }
  }
  // Legend: one row of swatches under the title.
  if (c.series.size() > 1) {
    double x = px0;
    for (size_t k = 0; k < c.series.size(); ++k) {
      const Rgb col = color(k);
      cairo_set_source_rgb(cr, col.r, col.g, col.b);
      cairo_rectangle(cr, x, top + 4, 12, 12);
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      text(cr, x + 16, top + 14, c.series[k].name);
      x += 16 + text_width(cr, c.series[k].name) + 18;
    }
  }
}

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string render(const Chart& c, const std::function<cairo_surface_t*(std::string*)>& make) {
  check(c);
  std::string out;
  cairo_surface_t* s = make(&out);
  cairo_t* cr = cairo_create(s);
  draw(cr, c);
  cairo_destroy(cr);
  cairo_surface_finish(s);
  const bool ok = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
  cairo_surface_destroy(s);
  if (!ok) throw Error("chart '" + c.title + "': cairo failed to draw");
  return out;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / 8;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::floor(lo / step) * step; v <= std::ceil(hi / step) * step + step * 1e-6; v += step)
    t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

std::string render_svg(const Chart& c) {
  return render(c,
                [&](std::string* out) { return cairo_svg_surface_create_for_stream(append, out, c.width, c.height); });
}
std::string render_pdf(const Chart& c) {
  return render(c,
                [&](std::string* out) { return cairo_pdf_surface_create_for_stream(append, out, c.width, c.height); });
}
std::string render_png(const Chart& c) {
  check(c);
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, c.width, c.height);
  cairo_t* cr = cairo_create(s);
  draw(cr, c);
  cairo_destroy(cr);
  std::string out;
  const bool ok = cairo_surface_write_to_png_stream(s, append, &out) == CAIRO_STATUS_SUCCESS;
  cairo_surface_destroy(s);
  if (!ok) throw Error("chart '" + c.title + "': cairo failed to write the PNG");
  return out;
}

ChartFiles write_chart(const Chart& c, const std::string& stem) {
  ChartFiles f;
  f.svg = render_svg(c);
  core::atomic_write_string(stem + ".svg", f.svg);
  core::atomic_write_string(stem + ".pdf", render_pdf(c));
  core::atomic_write_string(stem + ".png", render_png(c));
  f.paths = {stem + ".svg", stem + ".pdf", stem + ".png"};
  return f;
}

}  // namespace clickprompt::report
