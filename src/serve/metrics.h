#pragma once
// The server's Prometheus metrics (text exposition format 0.0.4):
//   clickprompt_requests_total{model,code}         HTTP requests by model ("" off the model routes) and status
//   clickprompt_request_duration_seconds{model}    infer latency histogram (body parsed to response ready)
//   clickprompt_batch_size{model}                  rows per forward pass histogram
//   clickprompt_batch_requests{model}              requests merged per forward pass histogram
//   clickprompt_rows_total{model}                  rows scored
//   clickprompt_model_load_seconds{model}          bundle load time
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace clickprompt::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double v);
  // Lines `name_bucket{labels,le="..."} n`, `name_sum{labels}`, `name_count{labels}`.
  void write(std::string& out, const std::string& name, const std::string& labels) const;
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); last = above every bound
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  void add_model(const std::string& model, double load_seconds);
  void request(const std::string& model, int code);
  void latency(const std::string& model, double seconds);
  void batch(const std::string& model, int64_t rows, int64_t requests);
  std::string text() const;  // the exposition

 private:
  struct PerModel {
    double load_seconds = 0;
    uint64_t rows = 0;
    Histogram latency{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
    Histogram batch_rows{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192}};
    Histogram batch_requests{{1, 2, 4, 8, 16, 32, 64, 128}};
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, PerModel> models_;
};

// A label value escaped for the exposition format (backslash, quote, newline).
std::string prometheus_escape(const std::string& v);

}  // namespace clickprompt::serve
