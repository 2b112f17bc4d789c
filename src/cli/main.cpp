// clickprompt: CTR models, language models and ClickPrompt from one command line.
#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/runtime.h"
#include "train/distributed.h"

namespace clickprompt::cli {
void setup_runtime(const Common& common) {
  core::init_logging(common.verbose);
  core::configure_threads(common.threads);
  core::keep_freed_memory();
}

void setup_distributed(const Common& common, const std::string& device) {
  auto env = train::dist::Env::from_environment();
  if (env.world_size <= 1) return;
  if (env.rank > 0 && !common.verbose) spdlog::set_level(spdlog::level::warn);
  const char* backend = std::getenv("CLICKPROMPT_DIST_BACKEND");
  train::dist::init(env, backend && *backend ? backend : "auto", core::check_device(device),
                    train::dist::timeout_from_environment());
}

void setup_distributed(const Common& common, const YAML::Node& device) {
  setup_distributed(common, device && device.IsScalar() ? device.Scalar() : std::string("cpu"));
}

void finish_distributed() { train::dist::shutdown(); }
}  // namespace clickprompt::cli

int main(int argc, char** argv) {
  using namespace clickprompt;
  CLI::App app{"clickprompt: CTR prediction with ID models, language models and ClickPrompt"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  cli::Common common;
  app.add_option("--threads", common.threads, "Intra-op threads (0 = all cores)")->default_val(0);
  app.add_flag("-v,--verbose", common.verbose, "Debug logging");
  // Global options are accepted after the subcommand too ("train --threads 2");
  // subcommands inherit the setting when they are created.
  app.fallthrough();
  cli::add_data_commands(app, common);
  cli::add_train_commands(app, common);
  cli::add_plm_commands(app, common);
  cli::add_serve_commands(app, common);
  cli::add_launch_command(app, common);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A mistyped command: name it and the nearest one.
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--threads") {
        ++i;
        continue;
      }
      if (a.empty() || a[0] == '-') continue;
      if (std::find(names.begin(), names.end(), a) == names.end()) {
        std::cerr << "error: unknown command '" << a << "' (" << core::suggest(a, names) << ")\n";
        return kExitUsage;
      }
      break;
    }
    app.exit(e);  // prints the message and the usage hint
    return kExitUsage;
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory (lower the batch size or the model size, or see --help for limits)\n";
    return kExitResource;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "error: " << e.code().message() << ": " << e.path1().string() << "\n";
    return kExitWrite;
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    if (msg.find("can't allocate memory") != std::string::npos || msg.find("out of memory") != std::string::npos) {
      std::cerr << "error: out of memory: " << msg.substr(0, msg.find('\n')) << "\n";
      return kExitResource;
    }
    std::cerr << "internal error (torch): " << msg.substr(0, msg.find('\n')) << "\n(please report this with the command line)\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n(please report this with the command line)\n";
    return kExitInternal;
  }
  return 0;
}
