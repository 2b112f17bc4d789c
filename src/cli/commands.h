#pragma once
// One registration function per subcommand group (git-style CLI).
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <string>

namespace clickprompt::cli {

// Number checks with plain messages ("must be a number >= 1, got -1"); CLI11's
// own print their range as doubles.
inline CLI::Validator at_least(long long lo) {
  return CLI::Validator(
      [lo](std::string& v) -> std::string {
        try {
          size_t used = 0;
          long long n = std::stoll(v, &used);
          if (used == v.size() && n >= lo) return "";
        } catch (const std::exception&) {
        }
        return "must be an integer >= " + std::to_string(lo) + ", got '" + v + "'";
      },
      ">=" + std::to_string(lo));
}

struct Common {
  int threads = 0;
  bool verbose = false;
};

void add_data_commands(CLI::App& app, Common& common);
void add_train_commands(CLI::App& app, Common& common);
void add_plm_commands(CLI::App& app, Common& common);
void add_serve_commands(CLI::App& app, Common& common);  // export, serve, predict
void add_launch_command(CLI::App& app, Common& common);  // launch -- (data-parallel jobs)

// Called by every subcommand before it does work: logging, threads.
void setup_runtime(const Common& common);
// Training commands (train, pretrain-plm, experiment) under a launcher
// (WORLD_SIZE > 1 in the environment): joins the process group; ranks but 0 log
// warnings only (unless --verbose). CLICKPROMPT_DIST_BACKEND: auto | gloo | nccl.
void setup_distributed(const Common& common, const std::string& device);
// The same with a config's `device` entry (absent: cpu; the run itself reports a malformed one).
void setup_distributed(const Common& common, const YAML::Node& device);
// The end of a distributed command: a last barrier, then the group goes.
void finish_distributed();

}  // namespace clickprompt::cli
