// AcddProcess: runs the real acdd binary for an integration test. Starts it listening on
// 127.0.0.1:0, learns the port from its "listening on HOST:PORT" line, and stops it with
// SIGTERM (Stop) or SIGKILL (destructor, if the test did not stop it). Every wait has a
// deadline, so a hung server fails the test instead of hanging it.
// Thread rules: one test thread owns it.
#ifndef ACD_TESTS_SERVER_ACDD_PROCESS_H_
#define ACD_TESTS_SERVER_ACDD_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace acd::testing {

class AcddProcess {
 public:
  // Starts `binary` (default: the acdd built with the tests) with `--listen 127.0.0.1:0`
  // and `extra_args`. Aborts the test (via Catch2 FAIL) if no listening line arrives
  // within `deadline`. acdd's log (its stderr) goes to the test's stderr, or to the file
  // `log_path` (created or emptied) if one is given, for a test that reads it.
  explicit AcddProcess(std::vector<std::string> extra_args = {},
                       absl::Duration deadline = absl::Seconds(10),
                       const std::string& log_path = {});
  ~AcddProcess();
  AcddProcess(const AcddProcess&) = delete;
  AcddProcess& operator=(const AcddProcess&) = delete;

  const std::string& target() const { return target_; }  // "127.0.0.1:PORT"
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits up to `deadline` for exit. Returns the exit code, or nullopt
  // if the process did not exit in time or died of a signal.
  std::optional<int> Stop(int signal, absl::Duration deadline = absl::Seconds(10));

 private:
  pid_t pid_ = -1;
  std::string target_;
};

// Runs a command to completion within `deadline`; returns its exit code (or -1) and its
// stdout (and stderr too if `with_stderr`; otherwise stderr goes to the test's).
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration deadline = absl::Seconds(10), bool with_stderr = false);

// Waits for `pid` to exit, up to `deadline`. Returns the exit code, or nullopt.
std::optional<int> WaitForExit(pid_t pid, absl::Duration deadline);

}  // namespace acd::testing

#endif  // ACD_TESTS_SERVER_ACDD_PROCESS_H_
