#include "tests/server/acdd_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <stdexcept>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace acd::testing {
namespace {

// fork + exec with stdout on a pipe; returns the pid and the pipe's read end. stderr goes
// to the pipe too if `with_stderr`, else to the file `stderr_path` if not empty.
std::pair<pid_t, int> Spawn(const std::vector<std::string>& argv, bool with_stderr = false,
                            const std::string& stderr_path = {}) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  int log = -1;
  if (!with_stderr && !stderr_path.empty()) {
    log = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log < 0) throw std::runtime_error("cannot open " + stderr_path);
  }
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    if (with_stderr) dup2(fds[1], STDERR_FILENO);
    if (log >= 0) dup2(log, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  if (log >= 0) close(log);
  return {pid, fds[0]};
}

// Reads from `fd` until `done(buffer)` or EOF or the deadline. Returns false on timeout.
template <class Done>
bool ReadUntil(int fd, std::string* buffer, absl::Time deadline, Done done) {
  while (!done(*buffer)) {
    const int64_t wait_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (wait_ms <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait_ms)) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return true;  // EOF
    buffer->append(chunk, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<int> WaitForExit(pid_t pid, absl::Duration deadline) {
  const absl::Time end = absl::Now() + deadline;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return std::nullopt;
    }
    if (r < 0 || absl::Now() > end) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));  // polling for exit, not a timing assertion
  }
}

AcddProcess::AcddProcess(std::vector<std::string> extra_args, absl::Duration deadline,
                         const std::string& log_path) {
  std::vector<std::string> argv = {ACDD_PATH, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto [pid, out] = Spawn(argv, /*with_stderr=*/false, log_path);
  pid_ = pid;
  std::string buffer;
  const bool in_time = ReadUntil(out, &buffer, absl::Now() + deadline, [](const std::string& b) {
    return b.find('\n') != std::string::npos;
  });
  close(out);
  const std::string line = buffer.substr(0, buffer.find('\n'));
  if (!in_time || !absl::StartsWith(line, "listening on ")) {
    kill(pid_, SIGKILL);
    WaitForExit(pid_, absl::Seconds(5));
    pid_ = -1;
    FAIL("acdd did not report its address; got: '" << line << "'");
  }
  target_ = line.substr(std::strlen("listening on "));
}

AcddProcess::~AcddProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    WaitForExit(pid_, absl::Seconds(5));
  }
}

std::optional<int> AcddProcess::Stop(int signal, absl::Duration deadline) {
  if (pid_ <= 0) return std::nullopt;
  kill(pid_, signal);
  std::optional<int> code = WaitForExit(pid_, deadline);
  if (code.has_value()) pid_ = -1;
  return code;
}

CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration deadline,
                         bool with_stderr) {
  auto [pid, out] = Spawn(argv, with_stderr);
  CommandResult result;
  const absl::Time end = absl::Now() + deadline;
  ReadUntil(out, &result.output, end, [](const std::string&) { return false; });
  close(out);
  std::optional<int> code = WaitForExit(pid, std::max(end - absl::Now(), absl::Seconds(1)));
  if (!code.has_value()) {
    kill(pid, SIGKILL);
    WaitForExit(pid, absl::Seconds(5));
  }
  result.exit_code = code.value_or(-1);
  return result;
}

}  // namespace acd::testing
