#include "parsl/runtime/logger.hpp"

#include <chrono>
#include <cstring>
#include <ctime>

#include "parsl/runtime/errors.hpp"
#include "parsl/serial/text.hpp"

namespace parsl {

LogLevel parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warning") return LogLevel::warning;
  if (text == "error") return LogLevel::error;
  if (text == "off") return LogLevel::off;
  throw ConfigError("unknown log level '" + excerpt(text) +
                    "': use one of debug, info, warning, error, off");
}

Logger::~Logger() { close(); }

void Logger::open(const std::filesystem::path& path, LogLevel level) {
  std::lock_guard lock(mutex_);
  if (file_ != nullptr) std::fclose(file_);
  file_ = std::fopen(path.c_str(), "a");
  if (file_ == nullptr)
    throw ConfigError("cannot open the log file " + path.string() + ": " + std::strerror(errno));
  level_ = level;
}

void Logger::close() noexcept {
  std::lock_guard lock(mutex_);
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

void Logger::log(LogLevel level, std::string_view message) noexcept {
  static constexpr const char* names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "OFF"};
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return;
  std::fprintf(file_, "%s.%03d %s %.*s\n", stamp, static_cast<int>(ms), names[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
  std::fflush(file_);
}

}  // namespace parsl
