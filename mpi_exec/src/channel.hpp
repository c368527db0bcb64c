#pragma once
// Internal: one rank's MPI endpoint on the executor's communicator. Owns a duplicate of the
// communicator (so our messages never match the user's), sends without blocking (buffers
// live in a list until MPI is done with them), and receives whatever has arrived.

#include <mpi.h>

#include <list>
#include <memory>
#include <string>
#include <vector>

#include "parsl/mpi_exec/mpi_error.hpp"
#include "parsl/serial/codec.hpp"

namespace parsl::mpi::detail {

/// What the root's and sub-masters' loops talk through: an MPI channel, or under emulation
/// (emulation.hpp) a virtual rank's link, which the loops cannot tell apart.
class Link {
 public:
  virtual ~Link() = default;
  /// This end's rank in the tree (a virtual rank under emulation).
  virtual int rank() const noexcept = 0;
  virtual void send(int dest, int tag, std::string bytes) = 0;
  /// The message of serial::encode_gather; the default joins the pieces and sends them.
  virtual void send_gathered(int dest, int tag, serial::Gathered g, std::shared_ptr<const void> keep);
  virtual bool try_receive(int& source, int& tag, std::string& bytes) = 0;
  virtual std::size_t progress() = 0;
  virtual void flush() = 0;
};

class Channel final : public Link {
 public:
  /// Collective over `comm`.
  explicit Channel(MPI_Comm comm);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  int rank() const noexcept override { return rank_; }
  int size() const noexcept { return size_; }
  MPI_Comm comm() const noexcept { return comm_; }
  /// A second duplicate, the parent of MPI tasks' communicators (MPI_Comm_create_group), so
  /// their creation never matches our messages.
  MPI_Comm tasks_comm() const noexcept { return tasks_comm_; }

  /// Sends `bytes` without blocking. A message longer than the chunk size (1 GiB; MPI
  /// counts are int) goes as a header on kTagLarge and chunks on a third duplicate, and
  /// try_receive returns it whole, as one message of `tag`: sizes are 64-bit safe.
  void send(int dest, int tag, std::string bytes) override;
  /// Sends the message whose bytes are `g` (serial::encode_gather) without copying its
  /// external pieces: they go from where they are, `keep` holding them alive until sent
  /// (an MPI datatype over the pieces; the receiver gets the same bytes as from send()).
  /// Above the chunk size, the pieces are joined and sent as send() does.
  void send_gathered(int dest, int tag, serial::Gathered g, std::shared_ptr<const void> keep) override;
  /// The tag of a large message's header (not a protocol tag: try_receive never returns it).
  static constexpr int kTagLarge = 7199;
  /// For tests: chunk messages longer than `bytes` (default 1 GiB).
  void set_chunk_size(std::size_t bytes) noexcept { chunk_ = bytes; }
  /// Completes what it can of the pending sends; returns how many remain.
  std::size_t progress() override;
  /// Blocks until every pending send is complete (polling with short sleeps).
  void flush() override;
  /// Receives one arrived message of any tag, if any (a large message whole, once its
  /// header has arrived).
  bool try_receive(int& source, int& tag, std::string& bytes) override;

 private:
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;  // the message, or a large one's header
    std::vector<MPI_Request> chunks;          // a large message's chunks (else empty)
    std::string buffer;
    std::string header;  // a large message's
    std::shared_ptr<const void> keep;  // what a gathered send's pieces point into
  };
  void receive_large(int source, std::string& bytes, int& tag);
  void capture(const std::string& bytes, int tag);
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Comm tasks_comm_ = MPI_COMM_NULL;
  MPI_Comm large_comm_ = MPI_COMM_NULL;  // chunks of large messages
  std::size_t chunk_ = std::size_t{1} << 30;
  int rank_ = 0, size_ = 0;
  int captured_ = 0;
  std::list<Pending> pending_;
};

/// Spins briefly after activity, then sleeps in growing steps: an idle rank uses well under
/// 5% of a core, and a busy one sees no added latency.
class Backoff {
 public:
  void reset() noexcept { idle_polls_ = 0; }
  /// One idle round: yield, or sleep.
  void idle();
  /// The sleep the next idle() would take, in microseconds (0 while still spinning).
  long next_sleep_us() const noexcept;
  /// Counts an idle round whose sleep the caller did itself (rank 0 waits on its queue).
  void idle_counted() noexcept { ++idle_polls_; }

 private:
  long idle_polls_ = 0;
};

}  // namespace parsl::mpi::detail
