#include "start_check.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

namespace parsl::mpi::detail {

namespace {

using Clock = std::chrono::steady_clock;

std::string receive_from(MPI_Comm comm, const MPI_Status& probed) {
  int n = 0;
  MPI_Get_count(&probed, MPI_CHAR, &n);
  std::string s(static_cast<std::size_t>(n), '\0');
  MPI_Recv(s.data(), n, MPI_CHAR, probed.MPI_SOURCE, kStartTag, comm, MPI_STATUS_IGNORE);
  return s;
}

[[noreturn]] void stop_job(const std::string& message) {
  std::fprintf(stderr, "parsl: %s; stopping the job\n", message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 3);
  std::abort();
}

std::map<std::string, std::string> lines_of(const std::string& settings) {
  std::map<std::string, std::string> out;
  std::istringstream in(settings);
  for (std::string line; std::getline(in, line);) out[line.substr(0, line.find('='))] = line;
  return out;
}

// What rank `r`'s settings have that rank 0's do not: "prefetch=4 where rank 0 has prefetch=0".
std::string difference(const std::string& mine, const std::string& root) {
  const auto a = lines_of(mine), b = lines_of(root);
  std::string out;
  for (const auto& [key, line] : a) {
    const auto it = b.find(key);
    if (it != b.end() && it->second == line) continue;
    if (!out.empty()) out += ", ";
    out += line + (it == b.end() ? " (rank 0 has no such setting)" : " where rank 0 has " + it->second);
  }
  return out;
}

std::string list_ranks(MPI_Comm comm, const std::vector<int>& ranks) {
  std::string s;
  const std::size_t shown = std::min<std::size_t>(ranks.size(), 8);
  for (std::size_t i = 0; i < shown; ++i) s += (i ? ", " : "") + rank_name(comm, ranks[i]);
  if (ranks.size() > shown) s += " and " + std::to_string(ranks.size() - shown) + " more";
  return s;
}

std::string verdict_of(MPI_Comm comm, const std::vector<std::string>& settings, const std::vector<std::string>& problems) {
  // Ranks with the same problem are named together: a bad option on every rank is one line.
  std::map<std::string, std::vector<int>> by_problem;
  const int size = static_cast<int>(settings.size());
  for (int r = 0; r < size; ++r) {
    const auto i = static_cast<std::size_t>(r);
    if (!problems[i].empty())
      by_problem[problems[i]].push_back(r);
    else if (!settings[0].empty() && settings[i] != settings[0])
      by_problem["its configuration differs from rank 0's: " + difference(settings[i], settings[0]) +
                 " (every rank of the communicator must be given the same options)"]
          .push_back(r);
  }
  if (by_problem.empty()) return "";
  if (by_problem.size() == 1 && by_problem.begin()->second.size() == static_cast<std::size_t>(size))
    return by_problem.begin()->first;  // the same on every rank: said once, as a plain error
  std::string out;
  for (const auto& [problem, ranks] : by_problem)
    out += (out.empty() ? "" : "; ") + list_ranks(comm, ranks) + ": " + problem;
  return out;
}

}  // namespace

std::string rank_name(MPI_Comm comm, int rank) {
  int world = rank;
  MPI_Group group, world_group;
  if (MPI_Comm_group(comm, &group) == MPI_SUCCESS) {
    if (MPI_Comm_group(MPI_COMM_WORLD, &world_group) == MPI_SUCCESS) {
      MPI_Group_translate_ranks(group, 1, &rank, world_group, &world);
      MPI_Group_free(&world_group);
    }
    MPI_Group_free(&group);
  }
  return "rank " + std::to_string(rank) + (world != rank ? " (world rank " + std::to_string(world) + ")" : "");
}

std::string thread_level_problem(bool multiple) {
  int provided = MPI_THREAD_SINGLE, main_thread = 1;
  MPI_Query_thread(&provided);
  MPI_Is_thread_main(&main_thread);
  if (multiple && provided < MPI_THREAD_MULTIPLE)
    return std::string("MPI was initialized with ") +
           (provided == MPI_THREAD_SERIALIZED ? "MPI_THREAD_SERIALIZED"
            : provided == MPI_THREAD_FUNNELED ? "MPI_THREAD_FUNNELED"
                                              : "MPI_THREAD_SINGLE") +
           ", but a parsl::Session drives MPI from a thread of its own on the rank that submits tasks while the "
           "program goes on making MPI calls: initialize MPI with MPI_Init_thread(..., MPI_THREAD_MULTIPLE, ...)";
  if (provided >= MPI_THREAD_SERIALIZED || (provided == MPI_THREAD_FUNNELED && main_thread)) return "";
  if (provided == MPI_THREAD_FUNNELED)
    return "MPI was initialized with MPI_THREAD_FUNNELED, but parsl-mpi was started from another thread than the "
           "one that initialized MPI: it makes its MPI calls on the thread that starts it, which needs "
           "MPI_THREAD_SERIALIZED (MPI_THREAD_MULTIPLE if other threads make MPI calls meanwhile)";
  return "MPI was initialized with MPI_THREAD_SINGLE (MPI_Init, or MPI_Init_thread asking for it), but parsl-mpi "
         "runs tasks on threads beside the one that makes its MPI calls: initialize MPI with MPI_Init_thread(..., "
         "MPI_THREAD_FUNNELED, ...) at least (MPI_THREAD_MULTIPLE where the program's own threads make MPI calls "
         "while parsl-mpi runs)";
}

std::string start_check(MPI_Comm comm, int rank, int size, const std::string& settings, const std::string& problem,
                        double timeout_s) {
  const auto poll = std::chrono::microseconds(200);
  if (rank != 0) {
    // Longer than rank 0's wait: rank 0 knows which ranks are missing and says so first.
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s * 1.5 + 5);
    const std::string hello = problem + '\0' + settings;
    MPI_Request sent;
    MPI_Isend(hello.data(), static_cast<int>(hello.size()), MPI_CHAR, 0, kStartTag, comm, &sent);
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(0, kStartTag, comm, &flag, &st);
      if (flag) {
        std::string verdict = receive_from(comm, st);
        MPI_Wait(&sent, MPI_STATUS_IGNORE);
        return verdict;
      }
      if (Clock::now() > deadline)
        stop_job(rank_name(comm, rank) + " of the executor's communicator: rank 0 did not start parsl-mpi within " +
                 std::to_string(static_cast<int>(timeout_s * 1.5 + 5)) +
                 " s (parsl::run or the session must be started on every rank of the communicator)");
      std::this_thread::sleep_for(poll);
    }
  }
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  std::vector<std::string> all_settings(static_cast<std::size_t>(size)), problems(static_cast<std::size_t>(size));
  std::vector<bool> seen(static_cast<std::size_t>(size), false);
  all_settings[0] = settings;
  problems[0] = problem;
  seen[0] = true;
  for (int heard = 1; heard < size;) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kStartTag, comm, &flag, &st);
    if (flag) {
      const std::string hello = receive_from(comm, st);
      const auto r = static_cast<std::size_t>(st.MPI_SOURCE);
      const std::size_t cut = hello.find('\0');
      problems[r] = hello.substr(0, cut);
      all_settings[r] = cut == std::string::npos ? std::string() : hello.substr(cut + 1);
      if (!seen[r]) ++heard;
      seen[r] = true;
      continue;
    }
    if (Clock::now() > deadline) {
      std::vector<int> missing;
      for (int r = 1; r < size; ++r)
        if (!seen[static_cast<std::size_t>(r)]) missing.push_back(r);
      stop_job(list_ranks(comm, missing) + " of the executor's communicator (" + std::to_string(size) +
               " ranks) did not start parsl-mpi within " + std::to_string(static_cast<int>(timeout_s)) +
               " s (parsl::run or the session must be started on every rank of the communicator; "
               "--parsl-mpi-start-timeout sets the wait)");
    }
    std::this_thread::sleep_for(poll);
  }
  const std::string verdict = verdict_of(comm, all_settings, problems);
  std::vector<MPI_Request> replies(static_cast<std::size_t>(size - 1));
  for (int r = 1; r < size; ++r)
    MPI_Isend(verdict.data(), static_cast<int>(verdict.size()), MPI_CHAR, r, kStartTag, comm,
              &replies[static_cast<std::size_t>(r - 1)]);
  MPI_Waitall(size - 1, replies.data(), MPI_STATUSES_IGNORE);
  return verdict;
}

}  // namespace parsl::mpi::detail
