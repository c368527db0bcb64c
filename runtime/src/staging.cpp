#include "parsl/runtime/staging.hpp"

#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>

namespace parsl {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CloseFile {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
struct CleanupCurl {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// Runs a prepared transfer; throws StagingError with curl's reason (and the HTTP/FTP status).
void perform(CURL* curl, const std::string& what, const std::string& url) {
  char detail[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);  // HTTP >= 400 is an error, not a page
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);  // stalled for 60 s: give up
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // we run on worker threads
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) return;
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  std::string m = "cannot " + what + " " + url + ": " + (detail[0] ? detail : curl_easy_strerror(rc));
  if (code != 0 && std::string(detail).find(std::to_string(code)) == std::string::npos)
    m += " (server answered " + std::to_string(code) + ")";
  throw StagingError(m);
}

}  // namespace

void stage_in(const File& file) {
  if (file.is_local()) return;
  global_init();
  const std::string target = file.path(), partial = target + ".part";
  std::unique_ptr<std::FILE, CloseFile> out(std::fopen(partial.c_str(), "wb"));
  if (!out) throw StagingError("cannot fetch " + file.url() + ": cannot write " + partial + ": " + std::strerror(errno));
  std::unique_ptr<CURL, CleanupCurl> curl(curl_easy_init());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, out.get());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  try {
    perform(curl.get(), "fetch", file.url());
  } catch (...) {
    out.reset();
    std::remove(partial.c_str());  // no half file left behind under the real name
    throw;
  }
  out.reset();
  std::error_code ec;
  std::filesystem::rename(partial, target, ec);
  if (ec) throw StagingError("cannot fetch " + file.url() + ": cannot rename " + partial + ": " + ec.message());
}

void stage_out(const File& file) {
  if (file.is_local()) return;
  global_init();
  const std::string source = file.path();
  std::unique_ptr<std::FILE, CloseFile> in(std::fopen(source.c_str(), "rb"));
  if (!in) throw StagingError("cannot upload " + source + " to " + file.url() + ": " + std::strerror(errno));
  std::error_code ec;
  const auto size = std::filesystem::file_size(source, ec);
  std::unique_ptr<CURL, CleanupCurl> curl(curl_easy_init());
  curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);  // HTTP PUT, FTP STOR
  curl_easy_setopt(curl.get(), CURLOPT_READDATA, in.get());
  if (!ec) curl_easy_setopt(curl.get(), CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  curl_easy_setopt(curl.get(), CURLOPT_FTP_CREATE_MISSING_DIRS, CURLFTP_CREATE_DIR);
  perform(curl.get(), "upload " + source + " to", file.url());
}

}  // namespace parsl
