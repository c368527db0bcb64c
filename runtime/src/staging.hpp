#pragma once
// Internal: moving remote files in and out of a task's working directory with libcurl.
#include "parsl/runtime/file.hpp"

namespace parsl::detail {

/// Downloads a remote `file` (http, https, ftp) to file.path() in the working directory.
/// Local files are left alone. Throws StagingError naming the URL and what went wrong.
void stage_in(const File& file);
/// Uploads file.path() to the remote URL (HTTP PUT, FTP STOR). Local files: nothing to do.
void stage_out(const File& file);

}  // namespace parsl::detail
