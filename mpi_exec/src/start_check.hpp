#pragma once
// Internal: what every rank of the executor's communicator checks together before the tree
// starts, so that a mistake on one rank ends the start on all of them with one message,
// never a hang: every rank must call it within a bounded time, have the same settings, and
// have MPI at a thread level the executor can use.
#include <mpi.h>

#include <string>

namespace parsl::mpi::detail {

/// The tag of the start messages, on the caller's communicator (before the executor has a
/// duplicate of its own, which would itself be a collective that can hang).
inline constexpr int kStartTag = 32123;

/// "" when this process's MPI thread level lets the executor's loop make its MPI calls on
/// the calling thread while tasks run on others (`multiple`: while the program's own
/// threads make MPI calls too, as beside a Session); else what is wrong and what to do.
std::string thread_level_problem(bool multiple);

/// Collective over `comm` (rank `rank` of `size`), point to point only. Each rank sends its
/// `settings` (lines "name=value", the same on every rank of a correct start) and its
/// `problem` ("" if none; no NUL characters) to rank 0, which answers every rank with the verdict: "" to go on,
/// or one message that names the ranks and what is wrong. Returns that verdict, the same on
/// every rank. A rank that hears nothing within `timeout_s` (a rank that never called the
/// start, or rank 0 missing) prints which ranks are missing and aborts the job: the ranks
/// that did call are otherwise stuck, and so are the program's other ranks.
std::string start_check(MPI_Comm comm, int rank, int size, const std::string& settings, const std::string& problem,
                        double timeout_s);

/// Rank `rank` of `comm` as "rank R" or, when MPI_COMM_WORLD numbers it differently,
/// "rank R (world rank W)".
std::string rank_name(MPI_Comm comm, int rank);

}  // namespace parsl::mpi::detail
