#pragma once
/// @file
/// The run's log file: `runinfo/NNN/parsl.log`.

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string_view>

namespace parsl {

enum class LogLevel { debug, info, warning, error, off };

/// Parses "debug", "info", "warning", "error" or "off"; throws ConfigError otherwise.
LogLevel parse_log_level(std::string_view text);

/// A line-oriented log file with timestamps and levels. Thread-safe; each line is written
/// whole. Logging below the configured level costs one comparison.
class Logger {
 public:
  Logger() = default;
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  /// Opens (appends to) `path`. Throws ConfigError when the file cannot be opened.
  void open(const std::filesystem::path& path, LogLevel level);
  void close() noexcept;
  bool enabled(LogLevel level) const noexcept { return file_ != nullptr && level >= level_; }
  void log(LogLevel level, std::string_view message) noexcept;
  void debug(std::string_view m) noexcept { if (enabled(LogLevel::debug)) log(LogLevel::debug, m); }
  void info(std::string_view m) noexcept { if (enabled(LogLevel::info)) log(LogLevel::info, m); }
  void warning(std::string_view m) noexcept { if (enabled(LogLevel::warning)) log(LogLevel::warning, m); }
  void error(std::string_view m) noexcept { if (enabled(LogLevel::error)) log(LogLevel::error, m); }

 private:
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
  LogLevel level_ = LogLevel::info;
};

}  // namespace parsl
