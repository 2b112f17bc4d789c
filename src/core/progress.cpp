#include "core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace clickprompt::core {

Progress::Progress(std::string label, long long total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), tty_(::isatty(2) != 0) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(long long done, double loss) {
  last_done_ = done;
  last_loss_ = loss;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since < (tty_ ? 0.25 : 10.0)) return;
  last_draw_ = now;
  draw(done, loss, false);
}

void Progress::finish() {
  if (enabled_) draw(last_done_, last_loss_, true);
}

void Progress::draw(long long done, double loss, bool final_line) {
  double el = elapsed_seconds();
  double rate = el > 0 ? done / el : 0;
  double eta = rate > 0 ? (total_ - done) / rate : 0;
  int pct = total_ > 0 ? static_cast<int>(100.0 * done / total_) : 100;
  char buf[256];
  if (total_ <= 0)  // unknown total (a stream): count, rate and time so far
    std::snprintf(buf, sizeof(buf), "%s %lld | %.0f samples/s | %s %.0fs", label_.c_str(), done, rate,
                  final_line ? "took" : "elapsed", el);
  else
    std::snprintf(buf, sizeof(buf), "%s %3d%% %lld/%lld | %.0f samples/s | loss %.4f | %s %.0fs", label_.c_str(), pct,
                  done, total_, rate, loss, final_line ? "took" : "ETA", final_line ? el : eta);
  if (tty_)
    std::fprintf(stderr, "\r\033[K%s%s", buf, final_line ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", buf);
  std::fflush(stderr);
}

}  // namespace clickprompt::core
