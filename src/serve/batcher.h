#pragma once
// Dynamic batching, as Triton's dynamic batcher: concurrent requests for one
// model wait in a queue; one worker thread takes the oldest, then adds queued
// requests until max_batch_size rows or until max_queue_delay has passed since
// the oldest arrived, runs one forward pass over all their rows and hands each
// request its slice of the scores. A request larger than max_batch_size runs
// alone. max_batch_size 1 turns batching off (one pass per request).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace clickprompt::serve {

using Columns = std::vector<std::vector<std::string>>;  // [field][row]

struct BatcherOptions {
  int64_t max_batch_size = 256;                       // rows per forward pass
  std::chrono::microseconds max_queue_delay{0};  // how long the oldest request may wait for company (0, as Triton: batch what is queued)
};

class Batcher {
 public:
  using ScoreFn = std::function<std::vector<float>(const Columns&)>;
  // Called after every pass with its rows and the requests it served.
  using BatchFn = std::function<void(int64_t rows, int64_t requests)>;
  Batcher(ScoreFn score, BatcherOptions opt, BatchFn on_batch = {});
  ~Batcher();  // stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Scores the rows of `cols` (blocks until done); rethrows what the score function threw.
  std::vector<float> submit(Columns cols);
  // Finishes every queued request, then ends the worker; later submits throw.
  void stop();

 private:
  struct Pending {
    Columns cols;
    int64_t rows;
    std::chrono::steady_clock::time_point arrived;
    std::promise<std::vector<float>> result;
  };
  void run();
  ScoreFn score_;
  BatcherOptions opt_;
  BatchFn on_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace clickprompt::serve
