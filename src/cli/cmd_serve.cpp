// `clickprompt export | serve | predict`: model bundles, the online scoring
// server (Open Inference Protocol v2) and streaming batch scoring.
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "bundle/bundle.h"
#include "cli/commands.h"
#include "core/error.h"
#include "serve/batch_scoring.h"
#include "serve/server.h"
#include "train/run.h"

namespace clickprompt::cli {

void add_serve_commands(CLI::App& app, Common& common) {
  struct ExportArgs {
    std::string run, out;
  };
  auto ea = std::make_shared<ExportArgs>();
  auto* exp = app.add_subcommand("export", "Write a finished run as a self-contained model bundle (for serve and predict)");
  exp->add_option("--run", ea->run, "Run folder (train, any mode)")->required();
  exp->add_option("--out", ea->out, "Bundle folder (replaced if it is a bundle)")->required();
  exp->callback([ea, &common] {
    setup_runtime(common);
    auto m = train::export_run(ea->run, ea->out);
    std::cout << "bundle " << ea->out << ": " << m["kind"].get<std::string>() << " " << m["model"].get<std::string>()
              << ", " << m["fields"].size() << " fields, " << m["files"].size() << " files checksummed\n";
  });

  struct ServeArgs {
    std::vector<std::string> models;
    std::string device = "cpu";
    serve::ServerOptions o;
    int64_t delay_us = 0;
  };
  auto sa = std::make_shared<ServeArgs>();
  auto* srv = app.add_subcommand("serve", "Serve model bundles over HTTP (Open Inference Protocol v2, as KServe/Triton)");
  srv->add_option("--model", sa->models, "NAME=BUNDLE (repeatable)")->required();
  srv->add_option("--host", sa->o.host, "Address to listen on")->capture_default_str();
  srv->add_option("--port", sa->o.port, "Port (0 = any free port, printed)")->capture_default_str()->check(CLI::Range(0, 65535));
  srv->add_option("--max-batch-size", sa->o.batching.max_batch_size,
                  "Dynamic batching: rows per forward pass (1 = no batching)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  srv->add_option("--max-queue-delay-us", sa->delay_us,
                  "Dynamic batching: how long the oldest request waits for others (microseconds)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{10'000'000}));
  srv->add_option("--max-body-bytes", sa->o.max_body_bytes, "Larger request bodies get 413")->capture_default_str();
  srv->add_option("--max-rows", sa->o.max_rows_per_request, "Rows per request at most (more: 413)")->capture_default_str();
  srv->add_option("--http-threads", sa->o.http_threads, "Connections served at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  srv->add_option("--device", sa->device, "cpu | cuda | cuda:N")->capture_default_str();
  srv->add_flag("--log-requests", sa->o.log_requests, "One log line per request");
  srv->callback([sa, &common] {
    // SIGTERM/SIGINT go to one thread that drains the server; every thread started from here inherits the mask.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    setup_runtime(common);
    sa->o.batching.max_queue_delay = std::chrono::microseconds(sa->delay_us);
    serve::Server server(sa->o);
    for (const auto& spec : sa->models) {
      auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        throw Error("--model " + spec + ": expected NAME=BUNDLE_FOLDER");
      const auto t0 = std::chrono::steady_clock::now();
      auto m = bundle::load(spec.substr(eq + 1), sa->device);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      spdlog::info("model {}: {} {} from {} ({} fields, {:.2f}s)", spec.substr(0, eq), m->kind(), m->model_name(),
                   spec.substr(eq + 1), m->fields().size(), secs);
      server.add_model(spec.substr(0, eq), m, secs);
    }
    const int port = server.bind();
    spdlog::info("serving on http://{}:{} (max batch {} rows, max queue delay {} us, {} HTTP threads)", sa->o.host,
                 port, sa->o.batching.max_batch_size, sa->delay_us, sa->o.http_threads);
    std::cout << "listening on " << sa->o.host << ":" << port << std::endl;
    std::atomic<bool> finished{false};
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&sigs, &sig);
      if (finished) return;  // woken by the main thread below
      spdlog::info("signal {}: draining in-flight requests", sig);
      server.stop();
    });
    server.serve();
    finished = true;
    {
      pthread_kill(waiter.native_handle(), SIGTERM);  // serve() ended on its own: release the waiter
      waiter.join();
    }
    spdlog::info("stopped");
  });

  struct PredictArgs {
    std::string run, bundle, input, out, device = "cpu";
    serve::PredictOptions o;
    bool no_progress = false;
  };
  auto pa = std::make_shared<PredictArgs>();
  auto* pred = app.add_subcommand(
      "predict",
      "Score a CSV or JSON-lines file (plain or .gz; columns/keys named as the model's fields) in bounded memory");
  auto* run_opt = pred->add_option("--run", pa->run, "Run folder (from train)");
  auto* bundle_opt = pred->add_option("--bundle", pa->bundle, "Model bundle (from export)");
  run_opt->excludes(bundle_opt);
  pred->add_option("--input", pa->input, "CSV with a header naming the fields, or JSON lines")->required();
  pred->add_option("--out", pa->out, "Output CSV: score (and label when the input has one) per row")->required();
  pred->add_option("--format", pa->o.format, "auto | csv | jsonl")->capture_default_str();
  pred->add_option("--chunk-rows", pa->o.chunk_rows, "Rows read and scored at a time")->capture_default_str()->check(at_least(1));
  pred->add_option("--device", pa->device, "cpu | cuda | cuda:N")->capture_default_str();
  pred->add_flag("--no-progress", pa->no_progress, "No progress line");
  pred->callback([pa, &common] {
    setup_runtime(common);
    if (pa->run.empty() == pa->bundle.empty()) throw Error("predict: give --run RUN or --bundle BUNDLE");
    std::shared_ptr<bundle::Model> model;
    if (!pa->bundle.empty()) {
      model = bundle::load(pa->bundle, pa->device);
    } else {
      auto run = train::load_run(pa->run, "cpu");
      model = std::make_shared<bundle::Model>(train::bundle_contents(run, pa->run), pa->device);
    }
    pa->o.progress = !pa->no_progress;
    auto st = serve::predict_file(*model, pa->input, pa->out, pa->o);
    std::cout << "scored " << st.rows << " rows -> " << pa->out << " (" << static_cast<int64_t>(st.rows / std::max(st.seconds, 1e-9))
              << " rows/s)\n";
  });
}

}  // namespace clickprompt::cli
