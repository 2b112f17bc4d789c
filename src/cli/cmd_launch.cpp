// `clickprompt launch`: torchrun's local launcher for this tool. It starts
// --nproc-per-node workers of the command after `--` with torchrun's
// environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK,
// MASTER_ADDR, MASTER_PORT), forwards SIGINT/SIGTERM/SIGHUP to them, and when
// one worker fails stops the others (SIGTERM, then SIGKILL after a grace
// period) and fails with a message naming the rank. Workers die with the
// launcher (PR_SET_PDEATHSIG): a killed launcher leaves no orphans.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "core/strings.h"

namespace clickprompt::cli {

namespace {

struct LaunchArgs {
  int nproc = 1, nnodes = 1, node_rank = 0, master_port = 29500, timeout = 0;
  std::string master_addr = "127.0.0.1";
  double grace = 10;
  std::vector<std::string> command;
};

struct Worker {
  int rank = 0, local_rank = 0;
  pid_t pid = -1;
  bool done = false;
  int status = 0;
  double seconds = 0;
  int order = -1;  // when seen failing (0 first)
  int sent = 0;    // the stop signal the launcher had sent when it was seen (0,
                   // SIGTERM, SIGKILL)
};

std::string self_exe() {
  std::vector<char> buf(4096);
  ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) throw Error("launch: cannot find this program's path (/proc/self/exe)");
  return std::string(buf.data(), static_cast<size_t>(n));
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "stopped";
}
bool failed(int status) { return !WIFEXITED(status) || WEXITSTATUS(status) != 0; }
int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

int launch(const LaunchArgs& a) {
  if (a.command.empty())
    throw Error(
        "launch: give the command after --, e.g. launch "
        "--nproc-per-node 2 -- train ...");
  if (a.node_rank >= a.nnodes)
    throw Error("launch: --node-rank " + std::to_string(a.node_rank) + " must be below --nnodes " +
                std::to_string(a.nnodes));
  if (a.command.front() == "launch") throw Error("launch: the command cannot be another launch");
  const std::string exe = self_exe();
  const int world = a.nnodes * a.nproc;

  // Signals arrive here through sigtimedwait; the workers get the default
  // dispositions back.
  sigset_t sigs, old;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&sigs, s);
  sigprocmask(SIG_BLOCK, &sigs, &old);
  const pid_t parent = getpid();
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  std::vector<Worker> workers(static_cast<size_t>(a.nproc));
  for (int i = 0; i < a.nproc; ++i) {
    Worker& w = workers[static_cast<size_t>(i)];
    w.local_rank = i;
    w.rank = a.node_rank * a.nproc + i;
    std::map<std::string, std::string> env{{"RANK", std::to_string(w.rank)},
                                           {"WORLD_SIZE", std::to_string(world)},
                                           {"LOCAL_RANK", std::to_string(i)},
                                           {"LOCAL_WORLD_SIZE", std::to_string(a.nproc)},
                                           {"GROUP_RANK", std::to_string(a.node_rank)},
                                           {"MASTER_ADDR", a.master_addr},
                                           {"MASTER_PORT", std::to_string(a.master_port)}};
    if (a.timeout > 0) env["CLICKPROMPT_DIST_TIMEOUT"] = std::to_string(a.timeout);
    std::vector<std::string> args{exe};
    args.insert(args.end(), a.command.begin(), a.command.end());
    pid_t pid = fork();
    if (pid < 0) throw Error(std::string("launch: fork failed: ") + std::strerror(errno));
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);  // the launcher died before prctl
      sigprocmask(SIG_SETMASK, &old, nullptr);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> argv;
      for (auto& s : args) argv.push_back(s.data());
      argv.push_back(nullptr);
      execv(exe.c_str(), argv.data());
      std::fprintf(stderr, "launch: cannot start %s: %s\n", exe.c_str(), std::strerror(errno));
      _exit(127);
    }
    w.pid = pid;
  }
  std::cerr << "launch: " << a.nproc << " worker(s), ranks " << workers.front().rank << "-" << workers.back().rank
            << " of " << world << ", rendezvous at " << a.master_addr << ":" << a.master_port << "\n";

  int running = a.nproc, failures = 0;
  int sent = 0;  // the strongest stop signal sent so far (0: not stopping)
  int interrupted_by = 0;
  double stop_deadline = -1;  // when SIGKILL follows SIGTERM
  auto signal_all = [&](int sig) {
    for (auto& w : workers)
      if (!w.done) {
        kill(w.pid, sig);
        if (sig == SIGTERM) kill(w.pid, SIGCONT);  // a stopped (hung) worker gets the TERM too
      }
  };
  while (running > 0) {
    timespec ts{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
      if (!interrupted_by) std::cerr << "launch: " << strsignal(sig) << ": forwarding to the workers\n";
      interrupted_by = sig;
      signal_all(sig);
      if (stop_deadline < 0) stop_deadline = elapsed() + a.grace;
    }
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      for (size_t i = 0; i < workers.size(); ++i) {
        Worker& w = workers[i];
        if (w.pid != pid || w.done) continue;
        w.done = true;
        w.status = status;
        w.seconds = elapsed();
        --running;
        if (!failed(status) || interrupted_by) continue;
        w.order = failures++;
        w.sent = sent;
        std::cerr << "launch: rank " << w.rank << " (local rank " << w.local_rank << ", pid " << w.pid << ") "
                  << describe(status) << " after " << core::format_number(w.seconds) << " s"
                  << (sent ? "" : "; stopping the other " + std::to_string(running) + " worker(s)") << "\n";
        if (!sent) {
          sent = SIGTERM;
          signal_all(SIGTERM);
          stop_deadline = elapsed() + a.grace;
        }
      }
    }
    if (stop_deadline >= 0 && elapsed() > stop_deadline && running > 0) {
      std::cerr << "launch: " << running << " worker(s) still running " << core::format_number(a.grace)
                << " s after SIGTERM: SIGKILL\n";
      sent = SIGKILL;
      signal_all(SIGKILL);
      stop_deadline = elapsed() + 3600;
    }
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);
  if (interrupted_by) return kExitInterrupted;
  if (failures == 0) return 0;
  // The cause: the first failure that is neither a peer's consequence (exit 8:
  // its collective saw the dead or hung rank) nor the launcher's own stop; else
  // the first.
  auto caused_by_others = [](const Worker& w) {
    return (WIFEXITED(w.status) && WEXITSTATUS(w.status) == kExitPeer) ||
           (WIFSIGNALED(w.status) && w.sent != 0 &&
            (WTERMSIG(w.status) == SIGTERM || (WTERMSIG(w.status) == SIGKILL && w.sent == SIGKILL)));
  };
  const Worker *cause = nullptr, *first = nullptr;
  for (const auto& w : workers) {
    if (w.order < 0) continue;
    if (!first || w.order < first->order) first = &w;
    if (!caused_by_others(w) && (!cause || w.order < cause->order)) cause = &w;
  }
  if (!cause) cause = first;
  std::string others;
  for (const auto& w : workers)
    if (&w != cause && w.order >= 0) others += "; rank " + std::to_string(w.rank) + " then " + describe(w.status);
  std::cerr << "launch: job failed: rank " << cause->rank << " " << describe(cause->status) << others << "\n";
  return exit_code_of(cause->status);
}

}  // namespace

void add_launch_command(CLI::App& app, Common& common) {
  auto a = std::make_shared<LaunchArgs>();
  auto* c = app.add_subcommand("launch",
                               "Run a command as a data-parallel job (torchrun's flags and "
                               "environment), e.g. launch --nproc-per-node 2 -- "
                               "train --config C --out D");
  c->add_option("--nproc-per-node", a->nproc, "Workers on this host")->capture_default_str()->check(at_least(1));
  c->add_option("--nnodes", a->nnodes, "Hosts in the job")->capture_default_str()->check(at_least(1));
  c->add_option("--node-rank", a->node_rank, "This host's index (0 hosts the rendezvous)")
      ->capture_default_str()
      ->check(at_least(0));
  c->add_option("--master-addr", a->master_addr, "Address of node 0")->capture_default_str();
  c->add_option("--master-port", a->master_port, "Rendezvous port on node 0")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  c->add_option("--timeout", a->timeout,
                "Seconds a collective may wait for a peer before the job fails "
                "(0 = CLICKPROMPT_DIST_TIMEOUT or 1800)")
      ->capture_default_str()
      ->check(at_least(0));
  c->add_option("--grace", a->grace, "Seconds between SIGTERM and SIGKILL when stopping workers")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c->add_option("command", a->command, "The clickprompt command for every worker (after --)")->required();
  c->callback([a, &common] {
    int rc = launch(*a);
    if (rc != 0) std::exit(rc);
  });
}

}  // namespace clickprompt::cli
