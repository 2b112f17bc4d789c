#include "serve/metrics.h"

#include <cstdio>

namespace clickprompt::serve {

namespace {
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}
}  // namespace

std::string prometheus_escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
  uint64_t cum = 0;
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{" + labels + sep + "le=\"" + (i < bounds_.size() ? num(bounds_[i]) : "+Inf") + "\"} " +
           std::to_string(cum) + "\n";
  }
  out += name + "_sum{" + labels + "} " + num(sum_) + "\n";
  out += name + "_count{" + labels + "} " + std::to_string(count_) + "\n";
}

void Metrics::add_model(const std::string& model, double load_seconds) {
  std::lock_guard<std::mutex> lk(mu_);
  models_[model].load_seconds = load_seconds;
}

void Metrics::request(const std::string& model, int code) {
  std::lock_guard<std::mutex> lk(mu_);
  ++requests_[{model, code}];
}

void Metrics::latency(const std::string& model, double seconds) {
  std::lock_guard<std::mutex> lk(mu_);
  models_[model].latency.observe(seconds);
}

void Metrics::batch(const std::string& model, int64_t rows, int64_t requests) {
  std::lock_guard<std::mutex> lk(mu_);
  auto& m = models_[model];
  m.rows += static_cast<uint64_t>(rows);
  m.batch_rows.observe(static_cast<double>(rows));
  m.batch_requests.observe(static_cast<double>(requests));
}

std::string Metrics::text() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::string out;
  out += "# HELP clickprompt_requests_total HTTP requests by model and status code.\n";
  out += "# TYPE clickprompt_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "clickprompt_requests_total{model=\"" + prometheus_escape(key.first) + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  auto each = [&](const char* name, const char* type, const char* help, auto&& fn) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& [model, m] : models_) fn("model=\"" + prometheus_escape(model) + "\"", m);
  };
  each("clickprompt_request_duration_seconds", "histogram", "Infer request latency in the server (parse to response).",
       [&](const std::string& l, const PerModel& m) { m.latency.write(out, "clickprompt_request_duration_seconds", l); });
  each("clickprompt_batch_size", "histogram", "Rows per forward pass (dynamic batching).",
       [&](const std::string& l, const PerModel& m) { m.batch_rows.write(out, "clickprompt_batch_size", l); });
  each("clickprompt_batch_requests", "histogram", "Requests merged into one forward pass.",
       [&](const std::string& l, const PerModel& m) { m.batch_requests.write(out, "clickprompt_batch_requests", l); });
  each("clickprompt_rows_total", "counter", "Rows scored.", [&](const std::string& l, const PerModel& m) {
    out += "clickprompt_rows_total{" + l + "} " + std::to_string(m.rows) + "\n";
  });
  each("clickprompt_model_load_seconds", "gauge", "Time to load and check the model bundle.",
       [&](const std::string& l, const PerModel& m) {
         out += "clickprompt_model_load_seconds{" + l + "} " + num(m.load_seconds) + "\n";
       });
  return out;
}

}  // namespace clickprompt::serve
