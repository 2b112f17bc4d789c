// The experiment report: tables in four formats with the paper's marks, cairo
// figures (SVG, PDF, PNG decoded with libpng), and the page: a grid of run
// folders (result files only, no model) rendered to report.html, loaded by
// headless Chromium with no console error and every table and figure in its DOM.
#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/checksum.h"
#include "core/io.h"
#include "report/chart.h"
#include "report/grid_report.h"
#include "report/table.h"
#include "test_util.h"

namespace clickprompt {
namespace {

using test_util::TempDir;

report::Table sample_table() {
  report::Table t{
      "Table 2: overall", "Mean ± std; 50% tail", {"model", "test AUC", "test log loss"}, {}, {0, +1, -1}, {}};
  t.rows = {{"dcnv2", "0.80100 ± 0.00020", "0.5300"},
            {"ClickPrompt w/ PLM", "0.80300 ± 0.00010", "0.5280"},
            {"ClickPrompt w/o PLM", "0.80200", "0.5290"},
            {"Bayes-optimal", "0.90000", "0.4000"}};
  t.reference_rows = {3};
  return t;
}

TEST(ReportTable, BestIsBoldSecondUnderlinedReferenceRowsAside) {
  auto t = sample_table();
  auto m = t.marks();
  EXPECT_EQ(m[1][1], 1);  // highest AUC, the Bayes row aside
  EXPECT_EQ(m[2][1], 2);
  EXPECT_EQ(m[0][1], 0);
  EXPECT_EQ(m[3][1], 0);
  EXPECT_EQ(m[1][2], 1);  // lowest log loss
  EXPECT_EQ(m[2][2], 2);
  auto html = t.html();
  EXPECT_NE(html.find("<td><b>0.80300 ± 0.00010</b></td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td><u>0.80200</u></td>"), std::string::npos) << html;
  auto tex = t.latex();
  EXPECT_NE(tex.find("\\textbf{0.80300 $\\pm$ 0.00010}"), std::string::npos) << tex;
  EXPECT_NE(tex.find("\\underline{0.5290}"), std::string::npos) << tex;
  EXPECT_NE(tex.find("\\toprule"), std::string::npos);
  EXPECT_NE(tex.find("50\\% tail"), std::string::npos) << tex;
  EXPECT_NE(t.markdown().find("**0.80300 ± 0.00010**"), std::string::npos);
  EXPECT_EQ(t.csv().substr(0, 29), "model,test AUC,test log loss\n");
  EXPECT_EQ(report::html_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
  EXPECT_EQ(report::latex_escape("w/o_PLM #1 {x}"), "w/o\\_PLM \\#1 \\{x\\}");
}

TEST(ReportChart, NiceTicksCoverTheRange) {
  auto t = report::nice_ticks(0.7912, 0.8043);
  ASSERT_GE(t.size(), 4u);
  EXPECT_LE(t.front(), 0.7912);
  EXPECT_GE(t.back(), 0.8043);
  EXPECT_LE(t.size(), 10u);
  EXPECT_NEAR(t[1] - t[0], 0.002, 1e-12);
}

// Width, height and the count of non-white pixels of a PNG, decoded by libpng.
struct Decoded {
  int width = 0, height = 0;
  int64_t ink = 0;
};
Decoded decode_png(const std::string& bytes) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  EXPECT_TRUE(png_image_begin_read_from_memory(&img, bytes.data(), bytes.size())) << img.message;
  img.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> px(PNG_IMAGE_SIZE(img));
  EXPECT_TRUE(png_image_finish_read(&img, nullptr, px.data(), 0, nullptr)) << img.message;
  Decoded d{static_cast<int>(img.width), static_cast<int>(img.height), 0};
  for (size_t i = 0; i + 2 < px.size(); i += 3) d.ink += px[i] < 250 || px[i + 1] < 250 || px[i + 2] < 250;
  return d;
}

TEST(ReportChart, BarsAndLinesInThreeFormats) {
  TempDir dir("cp-chart");
  report::Chart bars{report::Chart::Kind::bars,
                     "test AUC by variant",
                     "",
                     "test AUC",
                     {"backbone", "ClickPrompt w/ PLM", "ClickPrompt w/o PLM"},
                     {{"dcnv2", {0.801, 0.803, std::nan("")}, {0.0002, 0.0001, 0}}, {"dnn", {0.799, 0.8, 0.802}, {}}},
                     640,
                     360};
  auto f = report::write_chart(bars, dir.file("bars"));
  ASSERT_EQ(f.paths.size(), 3u);
  for (const auto& p : f.paths) EXPECT_TRUE(core::file_exists(p)) << p;
  EXPECT_NE(f.svg.find("<svg"), std::string::npos);
  EXPECT_EQ(core::read_file(dir.file("bars.pdf")).substr(0, 5), "%PDF-");
  auto d = decode_png(core::read_file(dir.file("bars.png")));
  EXPECT_EQ(d.width, 640);
  EXPECT_EQ(d.height, 360);
  EXPECT_GT(d.ink, 640 * 360 / 50) << "hardly anything drawn";
  report::Chart lines{report::Chart::Kind::lines,
                      "validation AUC per epoch",
                      "epoch",
                      "AUC",
                      {"1", "2", "3"},
                      {{"valid", {0.78, 0.79, 0.791}, {}}},
                      500,
                      300};
  auto l = decode_png(report::render_png(lines));
  EXPECT_EQ(l.width, 500);
  EXPECT_EQ(l.height, 300);
  bars.series[0].values.pop_back();
  EXPECT_THROW(report::render_svg(bars), Error);
}

// A finished run folder as training leaves it: result.json, metrics.jsonl, config.yaml.
void fake_run(const std::string& dir, double auc, uint64_t seed, bool pamlm = false) {
  core::make_dirs(dir);
  std::string log;
  for (int e = 1; e <= 3; ++e)
    log += (pamlm ? nlohmann::json{{"epoch", e}, {"train_mlm_loss", 3.0 - 0.2 * e}, {"valid_mlm_loss", 3.1 - 0.2 * e}}
                  : nlohmann::json{{"epoch", e}, {"train_loss", 0.6 - 0.02 * e}, {"valid_auc", auc - 0.01 / e}})
               .dump() +
           "\n";
  core::write_sealed(dir + "/metrics.jsonl", log);
  core::write_sealed(dir + "/config.yaml", "seed: " + std::to_string(seed) + "\n");
  if (pamlm) return;
  nlohmann::json lt = {{"tail_quantile", 0.2},
                       {"user_threshold", 5},
                       {"item_threshold", 7},
                       {"groups", nlohmann::json::array()},
                       {"item_frequency_buckets",
                        {{{"group", "[0, 0]"}, {"samples", 300}, {"auc", auc - 0.05}},
                         {{"group", "[1, 1]"}, {"samples", 400}, {"auc", auc - 0.02}}}},
                       {"user_frequency_buckets", {{{"group", "[1, 1]"}, {"samples", 500}, {"auc", auc - 0.03}}}}};
  for (const char* g :
       {"tail user / tail item", "tail user / head item", "head user / tail item", "head user / head item"})
    lt["groups"].push_back({{"group", g}, {"auc", auc - 0.01}, {"logloss", 0.5}, {"samples", 100}});
  core::write_sealed(dir + "/result.json", nlohmann::json{{"test_auc", auc},
                                                          {"test_logloss", 0.53 - (auc - 0.8)},
                                                          {"valid_auc", auc},
                                                          {"best_epoch", 3},
                                                          {"seed", seed},
                                                          {"model", "dcnv2"},
                                                          {"long_tail", lt}}
                                               .dump(2));
}

// A grid of two seeds: backbone and both ClickPrompt modes finished, one run
// failed, one running, one not started.
report::Grid tiny_grid(const TempDir& d) {
  report::Grid g;
  g.name = "tiny";
  g.dataset = "synthetic";
  g.seeds = {1, 2};
  g.backbones = {"dcnv2"};
  g.plms = {"small"};
  g.variants = {"backbone", "with_plm", "without_plm", "no_both"};
  for (uint64_t s : g.seeds) {
    std::string base = d.file("runs/s" + std::to_string(s));
    g.runs.push_back({"", "dcnv2", "backbone", s, base + "/backbone"});
    g.runs.push_back({"small", "dcnv2", "with_plm", s, base + "/with_plm"});
    g.runs.push_back({"small", "dcnv2", "without_plm", s, base + "/without_plm"});
    g.runs.push_back({"small", "dcnv2", "no_both", s, base + "/no_both"});
    g.pamlm.push_back(base + "/pamlm-layerwise");
    fake_run(base + "/backbone", 0.800 + 0.001 * s, s);
    fake_run(base + "/with_plm", 0.803 + 0.001 * s, s);
    fake_run(base + "/pamlm-layerwise", 0, s, true);
  }
  fake_run(d.file("runs/s1/without_plm"), 0.802, 1);
  core::make_dirs(d.file("runs/s2/without_plm"));  // running
  core::make_dirs(d.file("runs/s1/no_both"));
  core::atomic_write_string(d.file("runs/s1/no_both/failed.txt"), "training diverged at epoch 2\n");
  return g;  // s2/no_both: not started
}

TEST(ReportPage, GridReportHasEveryTableFigureAndRunStatus) {
  TempDir d("cp-report");
  auto g = tiny_grid(d);
  report::write_grid_report(g, d.file("report"));
  for (const char* f : {"results.csv", "table2.md", "table2.csv", "table2.tex", "table6.tex", "report.md",
                        "report.html", "auc_by_variant.svg", "auc_by_variant.pdf", "auc_by_variant.png",
                        "auc_by_item_frequency.svg", "auc_by_user_frequency.png"})
    EXPECT_TRUE(core::file_exists(d.file("report/") + f)) << f;
  auto html = core::read_file(d.file("report/report.html"));
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org"));  // no fetch: only SVG namespaces
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  for (const char* s : {"Table 2: overall performance", "Table 6: long-tail", ">finished<", ">failed<", ">running<",
                        ">not started<", "training diverged at epoch 2", "<b>0.80450 ± 0.00071</b>"})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  EXPECT_EQ(report::run_status(d.file("runs/s2/no_both")), "not started");
}

// Headless Chromium loads the page offline: no console error, and its DOM holds
// every table and figure (one inline SVG per figure file).
TEST(ReportPage, ChromiumRendersThePageWithoutErrors) {
  const char* chromium = "/usr/bin/chromium";
  if (!core::file_exists(chromium)) GTEST_SKIP() << "no Chromium at /usr/bin/chromium (.ci/run installs it)";
  TempDir d("cp-report-chrome");
  auto g = tiny_grid(d);
  report::write_grid_report(g, d.file("report"));
  const std::string page = "file://" + d.file("report/report.html");
  const std::string flags =
      "--headless --no-sandbox --disable-gpu --no-first-run --disable-extensions "
      "--disable-background-networking --user-data-dir=" +
      d.file("profile") + " ";
  auto dom = test_util::run_command(std::string(chromium) + " " + flags +
                                        "--enable-logging=stderr --v=0 --virtual-time-budget=2000 --dump-dom " + page,
                                    120);
  ASSERT_EQ(dom.code, 0) << dom.output;
  EXPECT_EQ(dom.output.find("Uncaught"), std::string::npos) << dom.output;
  EXPECT_EQ(dom.output.find("CONSOLE("), std::string::npos) << dom.output;
  size_t tables = 0, figures = 0;
  for (size_t p = 0; (p = dom.output.find("<table", p)) != std::string::npos; ++p) ++tables;
  for (size_t p = 0; (p = dom.output.find("<figure", p)) != std::string::npos; ++p) ++figures;
  EXPECT_EQ(tables, 5u + 1u) << "tables 2-6 and the run list";
  size_t svg_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.file("report")))
    svg_files += e.path().extension() == ".svg";
  EXPECT_EQ(figures, svg_files);
  EXPECT_GE(figures, 3u + 8u);  // AUC by variant / item / user frequency; curves of the runs
  auto shot = test_util::run_command(
      std::string(chromium) + " " + flags + "--window-size=1200,900 --screenshot=" + d.file("shot.png") + " " + page,
      120);
  ASSERT_EQ(shot.code, 0) << shot.output;
  auto img = decode_png(core::read_file(d.file("shot.png")));
  EXPECT_EQ(img.width, 1200);
  EXPECT_EQ(img.height, 900);
  EXPECT_GT(img.ink, 1200 * 900 / 100);
}

}  // namespace
}  // namespace clickprompt
