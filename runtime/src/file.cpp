#include "parsl/runtime/file.hpp"

namespace parsl {

File::File(std::string url) : url_(std::move(url)) {
  if (url_.empty()) throw Error("parsl::File needs a path or URL, got an empty string");
  const auto sep = url_.find("://");
  if (sep == std::string::npos) {
    scheme_ = "file";
    return;
  }
  scheme_ = url_.substr(0, sep);
  if (scheme_ != "file" && scheme_ != "http" && scheme_ != "https" && scheme_ != "ftp")
    throw Error("parsl::File '" + url_ + "': unknown scheme '" + scheme_ + "' (use file, http, https or ftp)");
  if (url_.size() == sep + 3) throw Error("parsl::File '" + url_ + "': nothing after the scheme");
}

std::string File::path() const {
  if (scheme_ == "file") {
    const auto sep = url_.find("://");
    return sep == std::string::npos ? url_ : url_.substr(sep + 3);
  }
  std::string p = url_.substr(url_.find("://") + 3);
  const auto q = p.find_first_of("?#");
  if (q != std::string::npos) p.resize(q);
  const auto slash = p.find_last_of('/');
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  return name.empty() ? "index" : name;
}

}  // namespace parsl
