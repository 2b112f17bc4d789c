#pragma once
// One registration function per subcommand group (git-style CLI).
#include <CLI/CLI.hpp>

namespace clickprompt::cli {

struct Common {
  int threads = 0;
  bool verbose = false;
};

void add_data_commands(CLI::App& app, Common& common);
void add_train_commands(CLI::App& app, Common& common);
void add_plm_commands(CLI::App& app, Common& common);
void add_serve_commands(CLI::App& app, Common& common);  // export, serve, predict

// Called by every subcommand before it does work: logging, threads.
void setup_runtime(const Common& common);

}  // namespace clickprompt::cli
