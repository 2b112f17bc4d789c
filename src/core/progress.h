#pragma once
// Progress of a long job on a terminal: done/total, samples/s, running loss and
// ETA on one rewritten line (or a plain log line every few seconds when stderr
// is not a terminal).
#include <chrono>
#include <string>

namespace clickprompt::core {

class Progress {
 public:
  // total <= 0: unknown (a stream); the line then shows the count, rate and time.
  Progress(std::string label, long long total, bool enabled = true);
  void update(long long done, double loss);
  void finish();
  double elapsed_seconds() const;

 private:
  void draw(long long done, double loss, bool final_line);
  std::string label_;
  long long total_;
  bool enabled_, tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  long long last_done_ = 0;
  double last_loss_ = 0;
};

}  // namespace clickprompt::core
