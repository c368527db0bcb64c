#pragma once
/// @file
/// `DataFuture`, the future of one app output, and `InputFile`, an entry of an inputs list.

#include <exception>
#include <memory>

#include "parsl/runtime/detail/task_record.hpp"
#include "parsl/runtime/file.hpp"

namespace parsl {

/// The future of one output of an app: done when the app's task is, holding the File, or
/// the task's error. Passing it in another call's `inputs` makes that call wait for it.
class DataFuture {
 public:
  DataFuture() = default;
  DataFuture(std::shared_ptr<detail::TaskRecord> parent, File file) noexcept
      : parent_(std::move(parent)), file_(std::move(file)) {}

  const File& file() const noexcept { return file_; }
  bool valid() const noexcept { return parent_ != nullptr; }
  bool done() const { return parent_ ? parent_->done() : true; }
  /// Waits for the producing task; returns the file or rethrows the task's error.
  const File& get() const {
    if (parent_) {
      parent_->wait();
      if (parent_->error()) std::rethrow_exception(parent_->error());
    }
    return file_;
  }
  /// The producing task (null for a plain file).
  const std::shared_ptr<detail::TaskRecord>& parent() const noexcept { return parent_; }

 private:
  std::shared_ptr<detail::TaskRecord> parent_;
  File file_;
};

/// An entry of an `inputs` list: a file that exists already, or the output of another app.
class InputFile {
 public:
  InputFile(File f) : data_(nullptr, std::move(f)) {}          // NOLINT
  InputFile(std::string url) : InputFile(File(std::move(url))) {}  // NOLINT
  InputFile(const char* url) : InputFile(File(url)) {}          // NOLINT
  InputFile(DataFuture d) : data_(std::move(d)) {}              // NOLINT
  const DataFuture& data() const noexcept { return data_; }

 private:
  DataFuture data_;
};

}  // namespace parsl
