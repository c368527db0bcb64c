#pragma once
/// @file
/// Moving remote files in and out of a task's working directory (libcurl). Every executor
/// does this around each task with remote `inputs` / `outputs`; exposed for tools.
#include "parsl/runtime/file.hpp"

namespace parsl {

/// Downloads a remote `file` (http, https, ftp) to file.path() in the working directory.
/// Local files are left alone. Throws StagingError naming the URL and what went wrong.
void stage_in(const File& file);
/// Uploads file.path() to the remote URL (HTTP PUT, FTP STOR). Local files: nothing to do.
void stage_out(const File& file);

}  // namespace parsl
