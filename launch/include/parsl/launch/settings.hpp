#pragma once
/// @file
/// parsl-submit's settings, from machine profiles (`--site NAME`) and the command line.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace parsl::launch {

/// Settings by key ("provider", "nodes", "walltime", ...: parsl-submit's long option names),
/// each with where it came from ("sites/summit.conf:4", "--nodes"). Keys are checked when
/// set: an unknown key throws LaunchError naming it and where it came from.
class Settings {
 public:
  /// Sets `key` (replacing a value from anywhere else).
  void set(const std::string& key, const std::string& value, const std::string& origin);
  /// Every setting of `other` replaces ours: profile first, then the command line.
  void merge(const Settings& other);
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  /// The value, or `fallback` when not set.
  std::string get(const std::string& key, const std::string& fallback = {}) const;
  /// A whole number ≥ `min`; throws LaunchError naming the key, its origin and the value.
  int get_int(const std::string& key, int fallback, int min = 0) const;
  /// yes/no, true/false, 1/0, on/off.
  bool get_bool(const std::string& key, bool fallback) const;
  /// Where `key` came from, or "default".
  std::string origin(const std::string& key) const;
  const std::map<std::string, std::string>& values() const noexcept { return values_; }

  /// The keys a setting may have, with one line of help each.
  static const std::map<std::string, std::string>& known_keys();

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> origins_;
};

/// Reads a profile: `key = value` lines, `#` comments, blank lines. Throws LaunchError
/// naming the file and line of anything else, of an unknown key, or of a repeated one.
Settings load_profile(const std::filesystem::path& file);

/// The folders searched for `--site NAME` (NAME.conf), first match wins:
/// $PARSL_SITE_PATH (colon-separated), ~/.config/parsl-mpi/sites, the installed
/// share/parsl-mpi/sites, and the source tree's launch/sites.
std::vector<std::filesystem::path> site_search_path();

/// The profile of site `name` (or a path to a .conf file); throws LaunchError listing the
/// folders searched and the sites found when there is none.
std::filesystem::path find_site(const std::string& name);

/// The sites found on the search path, by name.
std::map<std::string, std::filesystem::path> list_sites();

}  // namespace parsl::launch
