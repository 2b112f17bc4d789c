// clickprompt: CTR models, language models and ClickPrompt from one command line.
#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/runtime.h"

namespace clickprompt::cli {
void setup_runtime(const Common& common) {
  core::init_logging(common.verbose);
  core::configure_threads(common.threads);
  core::keep_freed_memory();
}
}  // namespace clickprompt::cli

int main(int argc, char** argv) {
  using namespace clickprompt;
  CLI::App app{"clickprompt: CTR prediction with ID models, language models and ClickPrompt"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  cli::Common common;
  app.add_option("--threads", common.threads, "Intra-op threads (0 = all cores)")->default_val(0);
  app.add_flag("-v,--verbose", common.verbose, "Debug logging");
  cli::add_data_commands(app, common);
  cli::add_train_commands(app, common);
  cli::add_plm_commands(app, common);
  cli::add_serve_commands(app, common);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "error (torch): " << e.what_without_backtrace() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
