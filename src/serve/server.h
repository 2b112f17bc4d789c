#pragma once
// `clickprompt serve`: model bundles behind the Open Inference Protocol v2
// REST API (KServe, Triton), on cpp-httplib:
//   GET  /v2                                        server metadata
//   GET  /v2/health/live, /v2/health/ready          liveness, readiness (503 while draining)
//   GET  /v2/models/{name}[/versions/1]             model metadata
//   GET  /v2/models/{name}[/versions/1]/ready       model readiness
//   POST /v2/models/{name}[/versions/1]/infer       scores (dynamic batching per model)
//   GET  /metrics                                   Prometheus text
// Every refusal is a 4xx with {"error": "..."}; a body over the size limit is 413.
// stop() (the CLI calls it on SIGTERM/SIGINT) stops accepting, lets the
// requests in flight finish, drains the batchers, and returns from serve().
#include <chrono>
#include <memory>
#include <string>

#include "bundle/bundle.h"
#include "serve/batcher.h"

namespace clickprompt::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (bind() says which)
  BatcherOptions batching;
  size_t max_body_bytes = 16u << 20;  // larger bodies get 413
  int64_t max_rows_per_request = 65536;
  int http_threads = 96;  // connections served at once (keep-alive connections hold one each)
  int keep_alive_seconds = 5;
  bool log_requests = false;
};

class Server {
 public:
  explicit Server(ServerOptions opt);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Before bind(): serves `model` as `name` (a name once).
  void add_model(const std::string& name, std::shared_ptr<bundle::Model> model, double load_seconds);
  // Binds the listening socket; returns the port. Throws Error when it cannot.
  int bind();
  // Serves until stop(); then drains and returns.
  void serve();
  void stop();
  bool ready() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace clickprompt::serve
