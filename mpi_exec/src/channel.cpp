#include "channel.hpp"

#include <cstdio>
#include <cstdlib>

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "parsl/mpi_exec/protocol.hpp"

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
  PARSL_MPI_CHECK(MPI_Comm_dup(comm, &large_comm_));
  // PARSL_MPI_CHUNK_BYTES: a smaller chunk than 1 GiB, so that tests take the large-message
  // path with small messages. Every rank must see the same value.
  if (const char* c = std::getenv("PARSL_MPI_CHUNK_BYTES")) {
    const long long n = std::atoll(c);
    if (n >= 1024 && n < (1LL << 31)) chunk_ = static_cast<std::size_t>(n);
  }
  PARSL_MPI_CHECK(MPI_Comm_set_errhandler(large_comm_, MPI_ERRORS_RETURN));
  PARSL_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  PARSL_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

Channel::~Channel() {
  try {
    flush();
  } catch (...) {
  }
  if (large_comm_ != MPI_COMM_NULL) MPI_Comm_free(&large_comm_);
  if (tasks_comm_ != MPI_COMM_NULL) MPI_Comm_free(&tasks_comm_);
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

namespace {
// A large message's header: its tag, size and chunk size, little-endian as on the wire.
struct LargeHeader {
  std::int32_t tag;
  std::uint64_t size, chunk;
};
}  // namespace

void Channel::send(int dest, int tag, std::string bytes) {
  pending_.push_back(Pending{MPI_REQUEST_NULL, {}, std::move(bytes), {}, {}});
  Pending& p = pending_.back();
  const std::size_t size = p.buffer.size();
  if (size <= chunk_) {
    PARSL_MPI_CHECK(MPI_Isend(p.buffer.data(), static_cast<int>(size), MPI_BYTE, dest, tag, comm_, &p.request));
    return;
  }
  // The header on comm_ (so that it is received in order with the sender's other messages),
  // then the chunks on large_comm_ with the message's tag, which arrive in order.
  const LargeHeader h{tag, size, chunk_};
  p.header.assign(reinterpret_cast<const char*>(&h), sizeof h);
  p.chunks.resize((size + chunk_ - 1) / chunk_, MPI_REQUEST_NULL);
  PARSL_MPI_CHECK(MPI_Isend(p.header.data(), sizeof h, MPI_BYTE, dest, kTagLarge, comm_, &p.request));
  for (std::size_t i = 0, at = 0; at < size; ++i, at += chunk_)
    PARSL_MPI_CHECK(MPI_Isend(p.buffer.data() + at, static_cast<int>(std::min(chunk_, size - at)), MPI_BYTE, dest, tag,
                              large_comm_, &p.chunks[i]));
}

namespace {
std::string joined(const serial::Gathered& g) {
  std::string flat;
  flat.reserve(g.size());
  std::size_t at = 0;
  for (const auto& [offset, piece] : g.external) {
    flat.append(g.head, at, offset - at);
    flat.append(piece);
    at = offset;
  }
  flat.append(g.head, at);
  return flat;
}
}  // namespace

void Link::send_gathered(int dest, int tag, serial::Gathered g, std::shared_ptr<const void>) {
  send(dest, tag, g.external.empty() ? std::move(g.head) : joined(g));
}

void Channel::send_gathered(int dest, int tag, serial::Gathered g, std::shared_ptr<const void> keep) {
  if (g.external.empty() || g.size() > chunk_) {
    send(dest, tag, g.external.empty() ? std::move(g.head) : joined(g));
    return;
  }
  pending_.push_back(Pending{MPI_REQUEST_NULL, {}, std::move(g.head), {}, std::move(keep)});
  Pending& p = pending_.back();  // a list node: the head's bytes stay where they are
  std::vector<int> lengths;
  std::vector<MPI_Aint> places;
  auto piece = [&](const char* data, std::size_t n) {
    if (n == 0) return;
    MPI_Aint a = 0;
    MPI_Get_address(data, &a);
    places.push_back(a);
    lengths.push_back(static_cast<int>(n));  // the whole is under the chunk size, so under 2 GiB
  };
  std::size_t at = 0;
  for (const auto& [offset, bytes] : g.external) {
    piece(p.buffer.data() + at, offset - at);
    piece(bytes.data(), bytes.size());
    at = offset;
  }
  piece(p.buffer.data() + at, p.buffer.size() - at);
  MPI_Datatype type;
  PARSL_MPI_CHECK(MPI_Type_create_hindexed(static_cast<int>(lengths.size()), lengths.data(), places.data(), MPI_BYTE, &type));
  PARSL_MPI_CHECK(MPI_Type_commit(&type));
  const int rc = MPI_Isend(MPI_BOTTOM, 1, type, dest, tag, comm_, &p.request);
  MPI_Type_free(&type);  // freed once the send is done with it
  PARSL_MPI_CHECK(rc);
}

std::size_t Channel::progress() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    PARSL_MPI_CHECK(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE));
    if (done && !it->chunks.empty())
      PARSL_MPI_CHECK(MPI_Testall(static_cast<int>(it->chunks.size()), it->chunks.data(), &done, MPI_STATUSES_IGNORE));
    it = done ? pending_.erase(it) : std::next(it);
  }
  return pending_.size();
}

void Channel::receive_large(int source, std::string& bytes, int& tag) {
  LargeHeader h{};
  if (bytes.size() != sizeof h)
    throw ProtocolError("rank " + std::to_string(rank_) + ": a large message's header from rank " +
                        std::to_string(source) + " has " + std::to_string(bytes.size()) + " bytes, not " +
                        std::to_string(sizeof h));
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.chunk == 0 || h.chunk > (std::size_t{1} << 31) - 1 || h.size <= h.chunk || h.size > (std::uint64_t{1} << 44))
    throw ProtocolError("rank " + std::to_string(rank_) + ": a large message's header from rank " +
                        std::to_string(source) + " says " + std::to_string(h.size) + " bytes in chunks of " +
                        std::to_string(h.chunk) + ", which is not a large message (at most 16 TiB, chunks under 2 GiB)");
  try {
    bytes.resize(h.size);
  } catch (const std::bad_alloc&) {
    throw Error("rank " + std::to_string(rank_) + ": a message of " + std::to_string(h.size) + " bytes from rank " +
                std::to_string(source) + " does not fit in this process's memory");
  }
  for (std::uint64_t at = 0; at < h.size; at += h.chunk) {
    const int n = static_cast<int>(std::min<std::uint64_t>(h.chunk, h.size - at));
    MPI_Status st;
    PARSL_MPI_CHECK(MPI_Recv(bytes.data() + at, n, MPI_BYTE, source, h.tag, large_comm_, &st));
    int got = 0;
    MPI_Get_count(&st, MPI_BYTE, &got);
    if (got != n)
      throw ProtocolError("rank " + std::to_string(rank_) + ": a chunk of a large message from rank " +
                          std::to_string(source) + " has " + std::to_string(got) + " bytes, not " + std::to_string(n));
  }
  tag = h.tag;
}

void Channel::flush() {
  Backoff backoff;
  while (progress() > 0) backoff.idle();
}

bool Channel::try_receive(int& source, int& tag, std::string& bytes) {
  int flag = 0;
  MPI_Status status;
  PARSL_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &status));
  if (!flag) return false;
  int count = 0;
  PARSL_MPI_CHECK(MPI_Get_count(&status, MPI_BYTE, &count));
  bytes.resize(static_cast<std::size_t>(count));
  PARSL_MPI_CHECK(MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm_, MPI_STATUS_IGNORE));
  source = status.MPI_SOURCE;
  tag = status.MPI_TAG;
  if (tag == kTagLarge) receive_large(source, bytes, tag);
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
