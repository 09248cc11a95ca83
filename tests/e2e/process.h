// A child process for end-to-end tests: started with fork/exec, its stdout
// and stderr sent to files, killed and reaped on destruction.
#ifndef CAVIAR_TESTS_E2E_PROCESS_H_
#define CAVIAR_TESTS_E2E_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace caviar::testing {

class Process {
 public:
  // Starts argv[0] (a path) with the given extra environment variables.
  Process(std::vector<std::string> argv, const std::string& log_prefix,
          const std::map<std::string, std::string>& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signal);
  // Waits for exit; returns the exit status (128 + signal if killed).
  int Wait();
  bool Running();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string out_path_, err_path_;
};

struct CommandResult {
  int exit_code;
  std::string out;
  std::string err;
};

// Runs a command to completion (with a timeout in seconds, then SIGKILL).
CommandResult RunCommand(std::vector<std::string> argv, const std::string& log_prefix,
                         const std::map<std::string, std::string>& env = {},
                         int timeout_seconds = 120);

}  // namespace caviar::testing

#endif  // CAVIAR_TESTS_E2E_PROCESS_H_
