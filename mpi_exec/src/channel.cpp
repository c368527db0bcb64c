#include "channel.hpp"

#include <cstdio>
#include <cstdlib>

#include <sched.h>
#include <time.h>

#include <algorithm>

namespace parsl {

MpiError::MpiError(const std::string& call, int code)
    : Error([&] {
        char text[MPI_MAX_ERROR_STRING] = {};
        int len = 0;
        MPI_Error_string(code, text, &len);
        return "MPI call failed: " + call + ": " + std::string(text, static_cast<std::size_t>(len)) + " (code " +
               std::to_string(code) + ")";
      }()),
      code_(code) {}

namespace mpi::detail {

Channel::Channel(MPI_Comm comm) {
  PARSL_MPI_CHECK(MPI_Comm_dup(comm, &comm_));
  PARSL_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  PARSL_MPI_CHECK(MPI_Comm_dup(comm, &tasks_comm_));
  PARSL_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  PARSL_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

Channel::~Channel() {
  try {
    flush();
  } catch (...) {
  }
  if (tasks_comm_ != MPI_COMM_NULL) MPI_Comm_free(&tasks_comm_);
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void Channel::send(int dest, int tag, std::string bytes) {
  pending_.push_back(Pending{MPI_REQUEST_NULL, std::move(bytes)});
  Pending& p = pending_.back();
  PARSL_MPI_CHECK(MPI_Isend(p.buffer.data(), static_cast<int>(p.buffer.size()), MPI_BYTE, dest, tag, comm_, &p.request));
}

std::size_t Channel::progress() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    PARSL_MPI_CHECK(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE));
    it = done ? pending_.erase(it) : std::next(it);
  }
  return pending_.size();
}

void Channel::flush() {
  Backoff backoff;
  while (progress() > 0) backoff.idle();
}

bool Channel::try_receive(int& source, int& tag, std::string& bytes, int want_tag) {
  int flag = 0;
  MPI_Status status;
  PARSL_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, want_tag, comm_, &flag, &status));
  if (!flag) return false;
  int count = 0;
  PARSL_MPI_CHECK(MPI_Get_count(&status, MPI_BYTE, &count));
  bytes.resize(static_cast<std::size_t>(count));
  PARSL_MPI_CHECK(MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm_, MPI_STATUS_IGNORE));
  source = status.MPI_SOURCE;
  tag = status.MPI_TAG;
  capture(bytes, tag);
  return true;
}

// PARSL_CAPTURE_MESSAGES=DIR: each rank writes the first 64 messages it receives to
// DIR/rank<R>-<N>-tag<T>.bin, as they came off the wire. They seed the decoders' fuzzing
// corpus (tests/fuzz/corpus/wire) with real messages.
void Channel::capture(const std::string& bytes, int tag) {
  static const char* dir = std::getenv("PARSL_CAPTURE_MESSAGES");
  if (dir == nullptr || *dir == '\0' || captured_ >= 64) return;
  const std::string name = std::string(dir) + "/rank" + std::to_string(rank_) + "-" + std::to_string(captured_++) +
                           "-tag" + std::to_string(tag) + ".bin";
  if (std::FILE* f = std::fopen(name.c_str(), "wb")) {
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
}

long Backoff::next_sleep_us() const noexcept {
  constexpr long kSpinPolls = 200;  // ~50-100 us of polling with yields
  if (idle_polls_ < kSpinPolls) return 0;
  return std::min(1000L, 20L << std::min(6L, (idle_polls_ - kSpinPolls) / 8));
}

void Backoff::idle() {
  const long us = next_sleep_us();
  ++idle_polls_;
  if (us == 0) {
    sched_yield();
    return;
  }
  timespec ts{0, us * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace mpi::detail
}  // namespace parsl
