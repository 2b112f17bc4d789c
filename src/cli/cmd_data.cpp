// `clickprompt data ...`: prepare, export, text, synth.
#include <sys/resource.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.h"
#include "core/io.h"
#include "data/dataset.h"
#include "data/synthetic.h"
#include "metrics/metrics.h"

namespace clickprompt::cli {

namespace {
struct DataArgs {
  std::string spec, cache_dir = ".cache", split = "test", out;
  bool rebuild = false;
  int64_t rows = 5;
  data::SyntheticOptions synth;
  std::string name = "synthetic";
};

data::Dataset load(const DataArgs& a) {
  auto spec = data::DatasetSpec::load(a.spec);
  return data::prepare_dataset(spec, {a.cache_dir, a.rebuild});
}

void add_spec_options(CLI::App* c, DataArgs& a) {
  c->add_option("--data", a.spec, "Dataset spec (YAML), e.g. configs/datasets/ml-1m.yaml")->required();
  c->add_option("--cache-dir", a.cache_dir, "Binary cache root ('' disables)")->capture_default_str();
  c->add_flag("--rebuild-cache", a.rebuild, "Ignore an existing cache and rebuild it");
}
}  // namespace

void add_data_commands(CLI::App& app, Common& common) {
  auto a = std::make_shared<DataArgs>();
  auto* data = app.add_subcommand("data", "Prepare, inspect, export and generate data sets");
  data->require_subcommand(1);

  auto* prep = data->add_subcommand("prepare", "Read raw files, split, fit the encoder and write the binary cache");
  add_spec_options(prep, *a);
  prep->callback([a, &common] {
    setup_runtime(common);
    auto ds = load(*a);
    const int64_t rows = ds.train.rows + ds.valid.rows + ds.test.rows;
    struct rusage ru {};
    ::getrusage(RUSAGE_SELF, &ru);
    std::cout << "dataset " << ds.spec.name << " (" << (ds.loaded_from_cache ? "loaded from cache" : "prepared") << " "
              << rows << " rows in " << ds.seconds << " s, " << fmt::format("{:.2f}", rows / std::max(ds.seconds, 1e-9) / 1e6)
              << " M rows/s, peak memory " << fmt::format("{:.0f}", ru.ru_maxrss / 1024.0) << " MB; cache " << ds.cache_dir << ")\n"
              << "split " << ds.split_used << ": train " << ds.train.rows << ", valid " << ds.valid.rows << ", test "
              << ds.test.rows << "\n";
    for (const auto& line : ds.reader_report) std::cout << "  " << line << "\n";
    for (size_t f = 0; f < ds.fields.size(); ++f)
      std::cout << "  field " << ds.fields[f].name << " (\"" << ds.fields[f].display << "\"): "
                << ds.encoder.field_size(static_cast<int>(f)) - 1 << " values + OOV\n";
    std::cout << "positive rate (train) " << ds.train.labels.mean().item<double>() << "\n";
  });

  auto* exp = data->add_subcommand("export", "Write a prepared split as CSV (raw field values + label)");
  add_spec_options(exp, *a);
  exp->add_option("--split", a->split, "train | valid | test")->capture_default_str();
  exp->add_option("--out", a->out, "Output CSV path")->required();
  exp->callback([a, &common] {
    setup_runtime(common);
    auto ds = load(*a);
    data::export_csv(ds, a->split, a->out);
    std::cout << "wrote " << ds.split(a->split).rows << " rows to " << a->out << "\n";
  });

  auto* text = data->add_subcommand("text", "Print the text view of some rows");
  add_spec_options(text, *a);
  text->add_option("--split", a->split, "train | valid | test")->capture_default_str();
  text->add_option("--rows", a->rows, "How many rows")->capture_default_str()->check(at_least(1));
  text->callback([a, &common] {
    setup_runtime(common);
    auto ds = load(*a);
    const auto& s = ds.split(a->split);
    for (int64_t r = 0; r < std::min(a->rows, s.rows); ++r)
      std::cout << ds.text_view(s, r) << "  [label " << s.labels[r].item<float>() << "]\n";
  });

  auto* syn = data->add_subcommand("synth", "Generate the synthetic CTR world (CSV + dataset spec)");
  syn->add_option("--out", a->out, "Output folder (gets synthetic.csv and dataset.yaml)")->required();
  syn->add_option("--name", a->name, "Dataset name")->capture_default_str();
  syn->add_option("--samples", a->synth.samples, "Number of impressions")->capture_default_str();
  syn->add_option("--users", a->synth.users, "Number of users")->capture_default_str();
  syn->add_option("--items", a->synth.items, "Number of items")->capture_default_str();
  syn->add_option("--topics", a->synth.topics, "Latent topics")->capture_default_str();
  syn->add_option("--item-zipf", a->synth.item_zipf, "Zipf exponent of item popularity")->capture_default_str();
  syn->add_option("--seed", a->synth.seed, "Random seed")->capture_default_str();
  syn->callback([a, &common] {
    setup_runtime(common);
    core::make_dirs(a->out);
    std::string csv = a->out + "/synthetic.csv";
    data::write_synthetic(a->synth, csv);
    core::atomic_write_string(a->out + "/dataset.yaml", data::synthetic_spec_yaml(a->name, csv));
    std::cout << "wrote " << a->synth.samples << " rows to " << csv << " and the spec " << a->out
              << "/dataset.yaml\n";
  });
}

}  // namespace clickprompt::cli
