#pragma once
// Errors a user can act on. Every failure that comes from input (files, rows,
// configs, names) is an Error whose message says where and what was expected.
// The kind of error fixes the process's exit code (README, "Exit codes"):
//   0 success, 1 internal error (a bug: please report), 2 usage error (command line),
//   3 bad input, 4 corrupt file, 5 resource limit, 6 training diverged,
//   7 cannot write (disk full, read-only, permissions), 8 a peer of a distributed run
//   failed or timed out, 130 interrupted.
#include <stdexcept>
#include <string>

namespace clickprompt {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,
  kExitUsage = 2,
  kExitBadInput = 3,
  kExitCorrupt = 4,
  kExitResource = 5,
  kExitDiverged = 6,
  kExitWrite = 7,
  kExitPeer = 8,
  kExitInterrupted = 130,
};

// Bad input: a config, spec, data row, name or option value that is wrong.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual int exit_code() const { return kExitBadInput; }
};

// A file the tool wrote (checkpoint, cache, result, bundle) fails its checksum or structure.
class CorruptFile : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitCorrupt; }
};

// A request above a configured limit (threads, table sizes, memory estimate), or out of memory.
class ResourceLimit : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitResource; }
};

// A non-finite loss or score during training or evaluation.
class Diverged : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitDiverged; }
};

// A write that failed: the message carries the system's reason (disk full, read-only, ...).
class WriteError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitWrite; }
};

// A collective of a distributed run failed: a peer died, hung past the timeout or never joined.
class PeerFailure : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitPeer; }
};

}  // namespace clickprompt
