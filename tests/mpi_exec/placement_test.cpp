// Tasks with resources and MPI tasks under mpirun: communicators of exactly k worker ranks
// among 1-rank tasks, mixed core counts that never use more cores than the job has, clear
// errors for requests no node can satisfy, cancellation and priorities of placed tasks.
// Rank 0 runs the workflow and its assertions; the other ranks serve tasks.
#include <gtest/gtest.h>

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <cstdlib>
#include <set>
#include <thread>
#include <tuple>

#include "mpi_test_support.hpp"

namespace {

using namespace std::chrono_literals;

int rank_here() { return std::atoi(std::getenv("PARSL_WORKER_RANK")); }
double now_s() {  // CLOCK_MONOTONIC: one clock for every process of the machine
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  return CPU_COUNT(&set);
}

struct MpiSeen {
  int size = 0, comm_rank = -1, sum = 0;
  std::vector<int> worker_ranks;  // PARSL_WORKER_RANK of each comm rank, by allgather
  double start = 0, end = 0;
  template <class A>
  void serialize(A& ar) {
    ar(size, comm_rank, sum, worker_ranks, start, end);
  }
};

// Each rank contributes its comm rank + 1; every rank computes the same sum, and rank 0's
// view is the task's value.
const auto collective = parsl::mpi_app("placement_test.collective", [](MPI_Comm comm, int hold_ms) {
  MpiSeen s;
  s.start = now_s();
  MPI_Comm_size(comm, &s.size);
  MPI_Comm_rank(comm, &s.comm_rank);
  int mine = s.comm_rank + 1;
  MPI_Allreduce(&mine, &s.sum, 1, MPI_INT, MPI_SUM, comm);
  int me = rank_here();
  s.worker_ranks.resize(static_cast<std::size_t>(s.size));
  MPI_Allgather(&me, 1, MPI_INT, s.worker_ranks.data(), 1, MPI_INT, comm);
  std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
  MPI_Barrier(comm);
  s.end = now_s();
  return s;
});

// Fails on comm rank 1 of the first try only; no collective after the check.
const auto flaky = parsl::mpi_app("placement_test.flaky", [](MPI_Comm comm, int) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  if (r == 1 && parsl::current_task().attempt == 1) throw std::runtime_error("rank 1 gave up");
  return r;
});

struct Seen {
  int rank = 0, omp = 0, cpus = 0, cores = 0;
  double start = 0, end = 0;
  template <class A>
  void serialize(A& ar) {
    ar(rank, omp, cpus, cores, start, end);
  }
};
const auto busy = parsl::app("placement_test.busy", [](int cores, int ms) {
  Seen s{rank_here(), std::atoi(std::getenv("OMP_NUM_THREADS")), affinity_cpus(), cores, now_s(), 0};
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  s.end = now_s();
  return s;
});
const auto plain = parsl::app("placement_test.plain", [](int x) { return x; });

double wall_s() {  // the clock `date +%s.%N` reads, for comparing with a bash task's times
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
struct Stamp {
  int rank = 0;
  double start = 0, end = 0;
  template <class A>
  void serialize(A& ar) {
    ar(rank, start, end);
  }
};
const auto stamp = parsl::app("placement_test.stamp", [](int ms) {
  const double t0 = wall_s();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return Stamp{rank_here(), t0, wall_s()};
});
// A bash task that starts an MPI program on the ranks it reserved.
const auto with_ranks = parsl::bash_app("placement_test.with_ranks", [](const std::string& hello, int k) {
  return "start=$(date +%s.%N); $PARSL_MPI_PREFIX " + hello + " " + std::to_string(k) +
         "; rc=$?; sleep 0.3; echo \"rc=$rc ranks=$PARSL_MPI_RANKS hosts=$PARSL_MPI_HOSTS start=$start end=$(date +%s.%N)\"; "
         "echo \"prefix=$PARSL_MPI_PREFIX\"; exit $rc";
});

struct Job {
  std::shared_ptr<parsl::MpiExecutor> exec = std::make_shared<parsl::MpiExecutor>();
  parsl::Config config() {
    parsl::Config c = parsl::test::mpi_config();
    c.executors = {exec};
    return c;
  }
  int workers() const { return static_cast<int>(exec->machine().workers()); }
  // The most cores one task may ask for on one node.
  int max_cores() const {
    int best = 0;
    for (const auto& n : exec->machine().nodes()) best = std::max(best, static_cast<int>(n.workers.size()) * n.share);
    return best;
  }
  int capacity() const {  // cores of all workers, as placement counts them
    int total = 0;
    for (const auto& n : exec->machine().nodes()) total += static_cast<int>(n.workers.size()) * n.share;
    return total;
  }
};

TEST(Placement, MpiTasksGetACommunicatorOfExactlyTheirRanksAmongOneRankTasks) {
  Job job;
  const int status = parsl::run(MPI_COMM_WORLD, job.config(), [&] {
    const int W = job.workers();
    std::vector<parsl::AppFuture<int>> small;
    for (int i = 0; i < 20; ++i) small.push_back(plain(i));
    std::vector<std::pair<int, parsl::AppFuture<MpiSeen>>> tasks;
    for (int k : {1, 2, 3, 4}) {
      if (k > W) {
        // Larger than the job: an error at submission that says why.
        try {
          collective.with({.ranks = k})(0);
          ADD_FAILURE() << "a task of " << k << " ranks on " << W << " workers was accepted";
        } catch (const parsl::ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find(std::to_string(k) + " ranks"), std::string::npos) << e.what();
        }
        continue;
      }
      tasks.emplace_back(k, collective.with({.ranks = k})(20));
      for (int i = 0; i < 5; ++i) small.push_back(plain(100 + i));
    }
    for (auto& [k, f] : tasks) {
      const MpiSeen s = f.get();
      EXPECT_EQ(s.size, k);
      EXPECT_EQ(s.comm_rank, 0);  // the value is comm rank 0's
      EXPECT_EQ(s.sum, k * (k + 1) / 2);
      std::set<int> distinct(s.worker_ranks.begin(), s.worker_ranks.end());
      EXPECT_EQ(static_cast<int>(distinct.size()), k);
      for (int r : s.worker_ranks) EXPECT_GT(r, 0);  // workers, never rank 0
    }
    for (auto& f : small) f.get();
  });
  EXPECT_EQ(status, 0);
}

TEST(Placement, AFailureOnAnyRankFailsTheTryAndRetriesApply) {
  Job job;
  const int status = parsl::run(MPI_COMM_WORLD, job.config(), [&] {
    if (job.workers() < 2) {  // one worker: a 2-rank task cannot run, and says so
      EXPECT_THROW(flaky.with({.ranks = 2})(0), parsl::ConfigError);
      return;
    }
    auto once = flaky.with({.ranks = 2})(0);
    EXPECT_THROW(
        try { once.get(); } catch (const std::exception& e) {
          EXPECT_NE(std::string(e.what()).find("rank 1 gave up"), std::string::npos) << e.what();
          throw;
        },
        std::exception);
  });
  EXPECT_EQ(status, 0);
  Job job2;
  parsl::Config c = job2.config();
  c.retries = 1;
  const int status2 = parsl::run(MPI_COMM_WORLD, std::move(c), [&] {
    if (job2.workers() < 2) {
      EXPECT_THROW(flaky.with({.ranks = 2})(0), parsl::ConfigError);
      return;
    }
    EXPECT_EQ(flaky.with({.ranks = 2})(0).get(), 0);  // the second try succeeds
  });
  EXPECT_EQ(status2, 0);
}

TEST(Placement, MixedCoreCountsNeverUseMoreCoresThanTheJobHas) {
  Job job;
  const int status = parsl::run(MPI_COMM_WORLD, job.config(), [&] {
    const int k = std::min(4, job.max_cores());
    ASSERT_GE(k, 2) << "every configuration this test runs in has a node of two cores or more";
    std::vector<parsl::AppFuture<Seen>> fs;
    for (int i = 0; i < 36; ++i) {
      const int cores = i % 6 == 0 ? k : 1;
      fs.push_back(busy.with({.cores = cores})(cores, 40));
    }
    std::vector<Seen> seen;
    for (auto& f : fs) seen.push_back(f.get());
    // At every start, the cores of the tasks running then fit in the job.
    for (const Seen& a : seen) {
      int in_use = 0;
      for (const Seen& b : seen)
        if (b.start <= a.start && a.start < b.end) in_use += b.cores;
      EXPECT_LE(in_use, job.capacity()) << "at the start of a " << a.cores << "-core task on rank " << a.rank;
    }
    for (const Seen& s : seen) {
      if (s.cores == k) {
        EXPECT_EQ(s.omp, k);
        // Bound to the cores of the workers it took (fewer when workers share cores).
        EXPECT_GE(s.cpus, 1);
        EXPECT_LE(s.cpus, k);
      }
    }
  });
  EXPECT_EQ(status, 0);
}

// $PARSL_MPI_PREFIX starts a real MPI program of k ranks from a bash task, and while it
// runs the k workers it reserved run nothing else.
TEST(Placement, ABashTaskReservesRanksForTheMpiProgramItStarts) {
  Job job;
  const int status = parsl::run(MPI_COMM_WORLD, job.config(), [&] {
    const int W = job.workers();
    if (W < 2) {  // one worker: a 2-rank request is refused when it is made
      EXPECT_THROW(with_ranks.with({.ranks = 2})(std::string(PARSL_MPI_HELLO), 2), parsl::ConfigError);
      return;
    }
    const int k = std::min(W, 3);
    const auto file = (parsl::DataFlowKernel::current().run_dir() / "with_ranks.txt").string();
    std::vector<parsl::AppFuture<Stamp>> stamps;
    for (int i = 0; i < 3 * W; ++i) stamps.push_back(stamp(40));
    auto f = with_ranks.with({.out = parsl::Redirect::truncate(file), .ranks = k})(std::string(PARSL_MPI_HELLO), k);
    for (int i = 0; i < 6 * W; ++i) stamps.push_back(stamp(40));
    ASSERT_NO_THROW(f.get());
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find("mpi_hello: " + std::to_string(k) + " ranks (wanted " + std::to_string(k) + ")"),
              std::string::npos) << text;
    EXPECT_NE(text.find("rc=0 ranks=" + std::to_string(k) + " hosts="), std::string::npos) << text;
    double start = 0, end = 0;
    const auto at = text.find(" start=");
    ASSERT_NE(at, std::string::npos) << text;
    std::sscanf(text.c_str() + at, " start=%lf end=%lf", &start, &end);
    ASSERT_GT(end, start) << text;
    std::set<int> busy_ranks;  // ranks that ran another task while the program held its k
    for (auto& s : stamps) {
      const Stamp st = s.get();
      if (st.start < end && start < st.end) busy_ranks.insert(st.rank);
    }
    EXPECT_LE(static_cast<int>(busy_ranks.size()), W - k) << "the MPI program's reserved workers ran other tasks";
  });
  EXPECT_EQ(status, 0);
}

TEST(Placement, RequestsNoNodeCanSatisfyAreErrorsAtSubmission) {
  Job job;
  const int status = parsl::run(MPI_COMM_WORLD, job.config(), [&] {
    auto message = [](auto&& call) -> std::string {
      try {
        call();
      } catch (const parsl::ConfigError& e) {
        return e.what();
      }
      return "(accepted)";
    };
    const std::string too_many_cores = message([&] { busy.with({.cores = job.max_cores() + 1})(1, 0); });
    EXPECT_NE(too_many_cores.find("placement_test.busy"), std::string::npos) << too_many_cores;
    EXPECT_NE(too_many_cores.find(std::to_string(job.max_cores() + 1) + " cores"), std::string::npos)
        << too_many_cores;
    const std::string gpu = message([&] { busy.with({.gpus = 1})(1, 0); });
    EXPECT_NE(gpu.find("GPU"), std::string::npos) << gpu;  // this machine has none
    const std::string memory = message([&] { busy.with({.memory = 1ULL << 60})(1, 0); });
    EXPECT_NE(memory.find("GiB"), std::string::npos) << memory;
    const std::string ranks = message([&] { busy.with({.ranks = 2})(1, 0); });
    EXPECT_NE(ranks.find("MPI apps"), std::string::npos) << ranks;
    EXPECT_EQ(plain(3).get(), 3);  // nothing was lost
  });
  EXPECT_EQ(status, 0);
}

TEST(Placement, PlacedTasksFollowPrioritiesAndCancelledOnesFreeTheirWorkers) {
  Job job;
  const int status = parsl::run(MPI_COMM_WORLD, job.config(), [&] {
    const int W = job.workers();
    // All workers held; two more whole-job tasks wait at rank 0, the later one first by
    // priority; a third waits and is cancelled.
    auto hold = collective.with({.ranks = W})(300);
    auto later = collective.with({.priority = 5, .ranks = W})(0);
    auto cancelled = collective.with({.priority = 0, .ranks = W})(0);
    auto sooner = collective.with({.priority = 1, .ranks = W})(0);
    EXPECT_TRUE(cancelled.cancel());
    EXPECT_THROW(cancelled.get(), parsl::TaskCancelled);
    const MpiSeen s = sooner.get(), l = later.get();
    EXPECT_LE(s.end, l.start);
    EXPECT_EQ(hold.get().size, W);
    // A placed task cancelled while its workers were still busy frees them: more tasks run.
    auto busy_one = busy(1, 400);
    std::this_thread::sleep_for(100ms);  // running by now
    auto waits = collective.with({.ranks = W})(0);
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(waits.cancel());
    EXPECT_EQ(busy_one.get().cores, 1);
    EXPECT_EQ(collective.with({.ranks = W})(0).get().size, W);
    EXPECT_EQ(busy.with({.cores = std::min(2, job.max_cores())})(2, 0).get().omp, std::min(2, job.max_cores()));
  });
  EXPECT_EQ(status, 0);
}

}  // namespace
