// Minimal leveled logging to stderr (Debian's Abseil has no absl/log).
// Thread-safe: each message is written with a single write(2).
//
//   CAVIAR_LOG(INFO) << "listening on " << address;
#ifndef CAVIAR_COMMON_LOG_H_
#define CAVIAR_COMMON_LOG_H_

#include <sstream>
#include <string>

namespace caviar {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Messages below this level are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug", "info", "warning", "error"; false if unknown.
bool ParseLogLevel(const std::string& text, LogLevel* level);

class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace caviar

#define CAVIAR_LOG_LEVEL_DEBUG ::caviar::LogLevel::kDebug
#define CAVIAR_LOG_LEVEL_INFO ::caviar::LogLevel::kInfo
#define CAVIAR_LOG_LEVEL_WARNING ::caviar::LogLevel::kWarning
#define CAVIAR_LOG_LEVEL_ERROR ::caviar::LogLevel::kError

#define CAVIAR_LOG(severity)                                   \
  if (CAVIAR_LOG_LEVEL_##severity < ::caviar::GetLogLevel()) { \
  } else                                                       \
    ::caviar::LogMessage(CAVIAR_LOG_LEVEL_##severity, __FILE__, __LINE__).stream()

#endif  // CAVIAR_COMMON_LOG_H_
