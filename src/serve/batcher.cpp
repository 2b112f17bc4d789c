#include "serve/batcher.h"

#include "core/error.h"

namespace clickprompt::serve {

Batcher::Batcher(ScoreFn score, BatcherOptions opt, BatchFn on_batch)
    : score_(std::move(score)), opt_(opt), on_batch_(std::move(on_batch)) {
  if (opt_.max_batch_size < 1) throw Error("dynamic batching: max batch size must be >= 1");
  if (opt_.max_queue_delay.count() < 0) throw Error("dynamic batching: max queue delay must be >= 0");
  worker_ = std::thread([this] { run(); });
}

Batcher::~Batcher() { stop(); }

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::vector<float> Batcher::submit(Columns cols) {
  const int64_t rows = cols.empty() ? 0 : static_cast<int64_t>(cols[0].size());
  if (rows == 0) return {};
  std::future<std::vector<float>> f;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping_) throw Error("the server is shutting down");
    queue_.push_back({std::move(cols), rows, std::chrono::steady_clock::now(), {}});
    f = queue_.back().result.get_future();
  }
  cv_.notify_one();
  return f.get();
}

void Batcher::run() {
  for (;;) {
    std::vector<Pending> batch;
    int64_t rows = 0;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      const auto deadline = queue_.front().arrived + opt_.max_queue_delay;
      for (;;) {
        while (!queue_.empty() && (batch.empty() || rows + queue_.front().rows <= opt_.max_batch_size)) {
          rows += queue_.front().rows;
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        if (rows >= opt_.max_batch_size || !queue_.empty() || stopping_) break;  // full, or the next does not fit
        if (cv_.wait_until(lk, deadline, [&] { return stopping_ || !queue_.empty(); })) continue;
        break;  // the delay has passed
      }
    }
    // One pass over all rows: move each request's values into the merged columns.
    std::vector<float> scores;
    std::exception_ptr error;
    try {
      Columns merged = std::move(batch[0].cols);
      for (size_t i = 1; i < batch.size(); ++i)
        for (size_t f = 0; f < merged.size(); ++f)
          for (auto& v : batch[i].cols[f]) merged[f].push_back(std::move(v));
      scores = score_(merged);
      if (static_cast<int64_t>(scores.size()) != rows) throw Error("internal: the model returned a wrong number of scores");
    } catch (...) {
      error = std::current_exception();
    }
    // Counted before any caller is answered: a client that reads the metrics after
    // its response must see its own batch.
    if (on_batch_) on_batch_(rows, static_cast<int64_t>(batch.size()));
    int64_t at = 0;
    for (auto& p : batch) {
      if (error) {
        p.result.set_exception(error);
      } else {
        p.result.set_value(std::vector<float>(scores.begin() + at, scores.begin() + at + p.rows));
      }
      at += p.rows;
    }
  }
}

}  // namespace clickprompt::serve
