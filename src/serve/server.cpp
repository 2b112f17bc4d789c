#include "serve/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <thread>

#include "core/error.h"
#include "serve/inference_protocol.h"
#include "serve/metrics.h"

namespace clickprompt::serve {

namespace {
using Clock = std::chrono::steady_clock;
const char* kJson = "application/json";

struct Served {
  std::shared_ptr<bundle::Model> model;
  std::unique_ptr<Batcher> batcher;
  std::string metadata;  // the metadata response, made once
};
// Debian's cpp-httplib is compiled with a listen backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG):
// 16 or 64 clients connecting at once overflow it and some first requests fail. listen()
// again on the bound socket (found by its port) raises the backlog to the system's maximum.
void widen_backlog(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int p = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
            : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                         : -1;
    if (p == port) ::listen(fd, SOMAXCONN);
  }
}
}  // namespace

struct Server::Impl {
  ServerOptions opt;
  httplib::Server http;
  std::map<std::string, Served> models;
  Metrics metrics;
  std::atomic<bool> ready{false}, bound{false}, serving{false}, stop_requested{false};

  // The served model a route names, or nullptr after writing the 404.
  Served* find(const httplib::Request& req, httplib::Response& res) {
    auto it = models.find(req.matches[1].str());
    if (it == models.end()) {
      std::string names;
      for (const auto& [n, _] : models) names += (names.empty() ? "" : ", ") + n;
      res.status = 404;
      res.set_content(error_body("unknown model '" + req.matches[1].str() + "' (serving: " + names + ")"), kJson);
      return nullptr;
    }
    if (req.matches.size() > 2 && req.matches[2].matched && req.matches[2].str() != "1") {
      res.status = 404;
      res.set_content(error_body("model '" + it->first + "' has no version '" + req.matches[2].str() +
                                 "' (versions: 1)"),
                      kJson);
      return nullptr;
    }
    return &it->second;
  }

  void infer(const httplib::Request& req, httplib::Response& res) {
    const auto t0 = Clock::now();
    Served* s = find(req, res);
    if (!s) return;
    const std::string& name = req.matches[1].str();
    try {
      auto r = parse_infer_request(req.body, s->model->fields(), opt.max_rows_per_request);
      auto probs = s->batcher->submit(std::move(r.columns));
      res.set_content(infer_response(name, r, probs), kJson);
      metrics.latency(name, std::chrono::duration<double>(Clock::now() - t0).count());
    } catch (const RequestError& e) {
      res.status = e.status();
      res.set_content(error_body(e.what()), kJson);
    } catch (const Error& e) {
      res.status = ready ? 500 : 503;
      res.set_content(error_body(e.what()), kJson);
    }
  }

  void routes() {
    const std::string model = R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)";
    http.Get("/v2", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(nlohmann::json{{"name", "clickprompt"}, {"version", "1"}, {"extensions", nlohmann::json::array()}}
                          .dump(),
                      kJson);
    });
    http.Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"live":true})", kJson);
    });
    http.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
      res.status = ready ? 200 : 503;
      res.set_content(ready ? R"({"ready":true})" : R"({"ready":false})", kJson);
    });
    http.Get(model, [this](const httplib::Request& req, httplib::Response& res) {
      if (Served* s = find(req, res)) res.set_content(s->metadata, kJson);
    });
    http.Get(model + "/ready", [this](const httplib::Request& req, httplib::Response& res) {
      if (!find(req, res)) return;
      res.status = ready ? 200 : 503;
      res.set_content(nlohmann::json{{"name", req.matches[1].str()}, {"ready", ready.load()}}.dump(), kJson);
    });
    http.Post(model + "/infer", [this](const httplib::Request& req, httplib::Response& res) { infer(req, res); });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.text(), "text/plain; version=0.0.4");
    });
    // Responses httplib makes itself (no route: 404, body too large: 413, bad request line: 400) get a JSON body too.
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      std::string what = res.status == 404   ? "no such endpoint: " + req.method + " " + req.path
                         : res.status == 413 ? "request body too large"
                                             : "bad request (HTTP status " + std::to_string(res.status) + ")";
      res.set_content(error_body(what), kJson);
      return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what += std::string(": ") + e.what();
      } catch (...) {
      }
      res.status = 500;
      res.set_content(error_body(what), kJson);
    });
    // Counts every answer: by model (only a served model's name, so clients cannot grow the label set) and status.
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      std::string m;
      if (req.matches.size() > 1 && models.count(req.matches[1].str())) m = req.matches[1].str();
      metrics.request(m, res.status);
      if (opt.log_requests) spdlog::info("{} {} -> {}", req.method, req.path, res.status);
    });
  }
};

Server::Server(ServerOptions opt) : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(opt);
  const auto& o = impl_->opt;
  if (o.http_threads < 1) throw Error("serve: --http-threads must be >= 1");
  if (o.max_rows_per_request < 1) throw Error("serve: the row limit per request must be >= 1");
  if (o.max_body_bytes < 64) throw Error("serve: --max-body-bytes must be >= 64");
  const int threads = o.http_threads;
  impl_->http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  impl_->http.set_payload_max_length(o.max_body_bytes);
  impl_->http.set_keep_alive_max_count(1u << 30);
  impl_->http.set_keep_alive_timeout(o.keep_alive_seconds);
  impl_->http.set_read_timeout(10, 0);
  impl_->http.set_write_timeout(10, 0);
  impl_->http.set_tcp_nodelay(true);
  impl_->routes();
}

Server::~Server() {
  stop();
  for (auto& [_, s] : impl_->models) s.batcher->stop();
}

void Server::add_model(const std::string& name, std::shared_ptr<bundle::Model> model, double load_seconds) {
  if (impl_->bound) throw Error("serve: models are added before the server binds");
  if (name.empty() || name.find('/') != std::string::npos || name.find_first_of(" \t\r\n?#%") != std::string::npos)
    throw Error("serve: model name '" + name + "' must be non-empty, without '/', spaces, '?', '#' or '%'");
  if (impl_->models.count(name)) throw Error("serve: model name '" + name + "' given twice");
  Served s;
  s.model = std::move(model);
  bundle::Model* m = s.model.get();
  Metrics* metrics = &impl_->metrics;
  s.batcher = std::make_unique<Batcher>([m](const Columns& c) { return m->score(c); }, impl_->opt.batching,
                                        [metrics, name](int64_t rows, int64_t requests) {
                                          metrics->batch(name, rows, requests);
                                        });
  s.metadata = model_metadata(name, m->fields(),
                              {{"kind", m->kind()}, {"model", m->model_name()}, {"device", m->device()}})
                   .dump();
  impl_->metrics.add_model(name, load_seconds);
  impl_->models.emplace(name, std::move(s));
}

int Server::bind() {
  if (impl_->models.empty()) throw Error("serve: no model to serve (give --model NAME=BUNDLE)");
  int port = impl_->opt.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(impl_->opt.host);
    if (port < 0) throw Error("serve: cannot bind " + impl_->opt.host + " on any port");
  } else if (!impl_->http.bind_to_port(impl_->opt.host, port)) {
    throw Error("serve: cannot bind " + impl_->opt.host + ":" + std::to_string(port) +
                " (in use, or not an address of this machine?)");
  }
  widen_backlog(port);
  impl_->bound = true;
  impl_->ready = true;
  return port;
}

void Server::serve() {
  if (!impl_->bound) throw Error("serve: bind() first");
  impl_->serving = true;
  // listen returns after stop(), once the requests in flight are answered.
  if (!impl_->stop_requested) impl_->http.listen_after_bind();
  impl_->serving = false;
  impl_->ready = false;
  for (auto& [_, s] : impl_->models) s.batcher->stop();
}

void Server::stop() {
  impl_->ready = false;
  impl_->stop_requested = true;
  // serve() may be between its check and listen's start: wait until it listens (or has returned).
  while (impl_->serving && !impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (impl_->http.is_running()) impl_->http.stop();
}

bool Server::ready() const { return impl_->ready; }

}  // namespace clickprompt::serve
