#pragma once
/// @file
/// `parsl::File`: a file named by a URL.

#include <string>

#include "parsl/serial/error.hpp"

namespace parsl {

/// A file by URL: `file://` (the default: a plain path is a local file), `http://`,
/// `https://` or `ftp://`. Copyable value; serializable.
///
/// @code
///   parsl::File raw("https://example.org/run7.csv"), table("results/run7.parquet");
/// @endcode
class File {
 public:
  File() = default;
  /// Throws Error for an unknown scheme or an empty URL.
  File(std::string url);  // NOLINT: implicit from a path on purpose
  File(const char* url) : File(std::string(url)) {}  // NOLINT

  const std::string& url() const noexcept { return url_; }
  /// "file", "http", "https" or "ftp".
  const std::string& scheme() const noexcept { return scheme_; }
  /// The local path: the path of a file:// URL, or for remote files the name it is staged to
  /// in the task's working directory (the last part of the URL's path).
  std::string path() const;
  bool is_local() const noexcept { return scheme_ == "file"; }

  friend bool operator==(const File& a, const File& b) { return a.url_ == b.url_; }
  template <class Archive>
  void serialize(Archive& ar) {
    ar(url_, scheme_);
  }

 private:
  std::string url_, scheme_;
};

/// A remote input could not be fetched, or an output could not be uploaded. Names the URL
/// and the reason (e.g. the server's status).
class StagingError : public Error {
 public:
  using Error::Error;
};

/// After a bash app exits 0, some of its outputs do not exist. Names them.
class MissingOutputs : public Error {
 public:
  using Error::Error;
};

}  // namespace parsl
