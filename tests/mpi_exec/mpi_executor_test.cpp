// The kernel's semantics through the MPI executor. Every rank runs every test: rank 0 runs
// the workflow (and its assertions), the others serve tasks.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "mpi_test_support.hpp"
#include "parsl/mpi_exec/topology.hpp"

namespace {

struct DivergedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Unregistered : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const auto square = parsl::app("mpi_test.square", [](std::int64_t x) { return x * x; });
const auto total = parsl::app("mpi_test.total", [](const std::vector<std::int64_t>& v) {
  std::int64_t s = 0;
  for (auto x : v) s += x;
  return s;
});
const auto where = parsl::app("mpi_test.where", [](int) {
  const char* r = std::getenv("PARSL_WORKER_RANK");
  return r ? std::atoi(r) : -1;
});
const auto env_of = parsl::app("mpi_test.env_of", [](std::string name) {
  const char* v = std::getenv(name.c_str());
  return v ? std::string(v) : std::string("<unset>");
});
const auto diverge = parsl::app("mpi_test.diverge", [](int) -> int { throw DivergedError("residual grew"); });
const auto unregistered = parsl::app("mpi_test.unregistered", [](int) -> int { throw Unregistered("odd one"); });
const auto always_fails = parsl::app("mpi_test.always_fails", [](int) -> int { throw std::runtime_error("no"); });
const auto fail64 = parsl::app("mpi_test.fail64", [](int) -> std::int64_t { throw std::runtime_error("no64"); });
const auto local_pid = parsl::app("mpi_test.local_pid", [](int) { return static_cast<int>(::getpid()); },
                                  parsl::AppOptions{.executors = {"local"}});
const auto remote_rank = parsl::app("mpi_test.remote_rank", [](int) {
  const char* r = std::getenv("PARSL_WORKER_RANK");
  return r ? std::atoi(r) : -1;
}, parsl::AppOptions{.executors = {"mpi"}});
const auto inner = parsl::join_app("mpi_test.inner", [](int n) {
  std::vector<parsl::AppFuture<std::int64_t>> v;
  for (int i = 1; i <= n; ++i) v.push_back(square(i));
  return v;
});

const auto bash_exit = parsl::bash_app("mpi_test.bash_exit", [](int code) { return "exit " + std::to_string(code); });
const auto bash_env = parsl::bash_app("mpi_test.bash_env", [](std::string file) {
  return "echo $PARSL_TASK_ID $PARSL_WORKER_RANK $OMP_NUM_THREADS > " + file;
});
const auto bash_sleep = parsl::bash_app("mpi_test.bash_sleep", [](int s) { return "sleep " + std::to_string(s); });

const auto crash_isolated = parsl::app("mpi_test.crash_isolated", [](int) -> int { std::abort(); },
                                       parsl::AppOptions{.isolate = true});

// The first try's child is killed (as the OOM killer would); the retry finds the marker.
const auto killed_first_try = parsl::app("mpi_test.killed_first_try", [](std::string marker) -> int {
  const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd >= 0) {
    ::close(fd);
    ::raise(SIGKILL);
  }
  return std::atoi(std::getenv("PARSL_WORKER_RANK"));
}, parsl::AppOptions{.isolate = true});

int run(const std::function<void()>& wf, parsl::Config c = parsl::test::mpi_config()) {
  return parsl::run(MPI_COMM_WORLD, std::move(c), wf, parsl::OnFailure::return_error);  // tests check the status
}

TEST(MpiExecutor, ResultsDependenciesAndFanIn) {
  const int status = run([] {
    std::vector<parsl::AppFuture<std::int64_t>> parts;
    for (int i = 1; i <= 200; ++i) parts.push_back(square(i));
    EXPECT_EQ(total(parts).get(), 200LL * 201 * 401 / 6);
    EXPECT_EQ(square(square(3)).get(), 81);
  });
  EXPECT_EQ(status, 0);
}

TEST(MpiExecutor, TasksRunOnWorkerRanksWithTheirEnvironment) {
  const int size = parsl::test::world_size();
  const int status = run([size] {
    std::set<int> ranks;
    std::vector<parsl::AppFuture<int>> fs;
    for (int i = 0; i < 64; ++i) fs.push_back(where(i));
    for (auto& f : fs) ranks.insert(f.get());
    EXPECT_FALSE(ranks.count(0));
    EXPECT_FALSE(ranks.count(-1));
    for (int r : ranks) EXPECT_LT(r, size);
    EXPECT_NE(env_of("PARSL_WORKER_COUNT").get(), "<unset>");
    EXPECT_NE(env_of("OMP_NUM_THREADS").get(), "<unset>");
    EXPECT_NE(env_of("PARSL_NODE").get(), "<unset>");
  });
  EXPECT_EQ(status, 0);
}

TEST(MpiExecutor, ErrorsComeBackTypedOrAsTaskError) {
  parsl::register_exception<DivergedError>();
  const int status = run([] {
    EXPECT_THROW(diverge(1).get(), DivergedError);
    try {
      unregistered(1).get();
      FAIL();
    } catch (const parsl::TaskError& e) {
      EXPECT_NE(e.info().type_name.find("Unregistered"), std::string::npos) << e.what();
      EXPECT_EQ(e.info().message, "odd one");
      EXPECT_GT(e.info().rank, 0);
      EXPECT_FALSE(e.info().host.empty());
    }
  });
  EXPECT_EQ(status, 0);
}

TEST(MpiExecutor, RetriesAndDependencyFailures) {
  parsl::Config c = parsl::test::mpi_config();
  c.retries = 2;
  std::atomic<int> priced{0};
  c.retry_handler = [&priced](const std::exception_ptr&, const parsl::TaskInfo& t) {
    EXPECT_EQ(t.executor, "mpi");
    priced.fetch_add(1);
    return 1.0;
  };
  const int status = run([] {
    auto bad = always_fails(0);
    EXPECT_EQ(square(square(0)).get(), 0);
    EXPECT_THROW(bad.get(), std::runtime_error);
    auto chained = square(fail64(0));  // never runs: its input failed
    try {
      chained.get();
      FAIL();
    } catch (const parsl::DependencyError& e) {
      EXPECT_EQ(e.chain().size(), 1u);
      EXPECT_NE(std::string(e.what()).find("std::runtime_error: no64"), std::string::npos) << e.what();
    }
  }, c);
  EXPECT_EQ(status, 0);
  if (parsl::test::world_rank() == 0) {
    EXPECT_EQ(priced.load(), 6);  // always_fails and fail64: 1 try + 2 retries each
  }
}

TEST(MpiExecutor, BashAppsRunOnWorkers) {
  const int status = run([] {
    EXPECT_EQ(bash_exit(0).get(), 0);
    try {
      bash_exit(15).get();
      FAIL();
    } catch (const parsl::BashExitFailure& e) {  // its own type, across MPI
      EXPECT_EQ(e.exit_code(), 15);
    }
    const auto file = (parsl::test::scratch_dir() / "bash_env.txt").string();
    auto f = bash_env(file);
    f.get();
    std::ifstream in(file);
    std::uint64_t id = 0;
    int rank = -1, threads = 0;
    in >> id >> rank >> threads;
    EXPECT_EQ(id, f.task_id());
    EXPECT_GT(rank, 0);
    EXPECT_GE(threads, 1);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(bash_sleep.with({.walltime = std::chrono::duration<double>(0.3)})(30).get(), parsl::AppTimeout);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  });
  EXPECT_EQ(status, 0);
}

TEST(MpiExecutor, IsolatedCrashFailsOnlyThatTaskAndTheWorkerGoesOn) {
  const int status = run([] {
    try {
      crash_isolated(1).get();
      FAIL();
    } catch (const parsl::WorkerLost& e) {  // its own type, across MPI
      EXPECT_NE(std::string(e.what()).find("SIGABRT"), std::string::npos) << e.what();
    }
    std::vector<parsl::AppFuture<std::int64_t>> after;
    for (int i = 0; i < 20; ++i) after.push_back(square(i));
    for (int i = 0; i < 20; ++i) EXPECT_EQ(after[static_cast<std::size_t>(i)].get(), i * i);
  });
  EXPECT_EQ(status, 0);
}

TEST(MpiExecutor, ALostIsolatedWorkerIsRetriedWhenTheBudgetAllows) {
  parsl::Config c = parsl::test::mpi_config();
  c.retries = 1;
  const int status = run([] {
    const auto marker = (parsl::test::scratch_dir() / "killed_first_try").string();
    auto f = killed_first_try(marker);
    EXPECT_GT(f.get(), 0);  // the second try ran on a worker rank
    EXPECT_TRUE(std::filesystem::exists(marker));  // so the first one did run, and was lost
    auto& dfk = parsl::DataFlowKernel::current();
    EXPECT_EQ(dfk.task_state_counts()[parsl::TaskState::exec_done], 1);
  }, c);
  EXPECT_EQ(status, 0);
}

// Slow too: a no-op here would teach its worker to prefetch deeply (see the docs on mixed
// short and long tasks).
const auto worker_count = parsl::app("mpi_test.worker_count", [](int) {
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return std::atoi(std::getenv("PARSL_WORKER_COUNT"));
});
const auto slow_rank = parsl::app("mpi_test.slow_rank", [](int) {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return std::atoi(std::getenv("PARSL_WORKER_RANK"));
});

TEST(MpiExecutor, LongTasksSpreadOverIdleWorkersInsteadOfQueueing) {
  const int status = run([] {
    const int workers = worker_count(0).get();
    ASSERT_GE(workers, 1);
    std::vector<parsl::AppFuture<int>> fs;
    for (int i = 0; i < workers; ++i) fs.push_back(slow_rank(i));
    std::set<int> ranks;
    for (auto& f : fs) ranks.insert(f.get());
    // One task per worker: none was queued behind another while a worker sat idle.
    EXPECT_EQ(static_cast<int>(ranks.size()), workers);
  });
  EXPECT_EQ(status, 0);
}

TEST(MpiExecutor, JoinAppsOverMpi) {
  const int status = run([] { EXPECT_EQ(inner(4).get(), (std::vector<std::int64_t>{1, 4, 9, 16})); });
  EXPECT_EQ(status, 0);
}

TEST(MpiExecutor, ThreadPoolAndMpiSideBySide) {
  parsl::Config c = parsl::test::mpi_config();
  c.executors.push_back(std::make_shared<parsl::MpiExecutor>());
  c.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(2, "local"));
  const int status = run([] {
    EXPECT_EQ(local_pid(1).get(), static_cast<int>(::getpid()));
    EXPECT_GT(remote_rank(1).get(), 0);
  }, c);
  EXPECT_EQ(status, 0);
}

TEST(MpiExecutor, TreeShapeIsLogged) {
  const int status = run([] {
    EXPECT_EQ(square(2).get(), 4);
    auto& dfk = parsl::DataFlowKernel::current();
    // What the tree should be, from the same options the executor read.
    const auto opts = parsl::MpiOptions::from_config(parsl::test::mpi_config());
    std::vector<int> nodes;
    for (int r = 0; r < parsl::test::world_size(); ++r) nodes.push_back(opts.ranks_per_node > 0 ? r / opts.ranks_per_node : 0);
    const auto topo = parsl::mpi::Topology::build(nodes, opts.fanout, opts.prefetch);
    std::ifstream in(dfk.run_dir() / "parsl.log");
    std::stringstream log;
    log << in.rdbuf();
    EXPECT_NE(log.str().find("tree depth " + std::to_string(topo.depth())), std::string::npos) << log.str();
    EXPECT_NE(log.str().find(std::to_string(topo.workers()) + " workers"), std::string::npos) << log.str();
  });
  EXPECT_EQ(status, 0);
}

TEST(MpiExecutor, WorkflowErrorGivesNonZeroStatusOnEveryRank) {
  testing::internal::CaptureStderr();
  const int status = run([] { throw std::logic_error("workflow gave up"); });
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, 1);  // on every rank
  if (parsl::test::world_rank() == 0) {
    EXPECT_NE(err.find("std::logic_error: workflow gave up"), std::string::npos) << err;
  } else {
    EXPECT_EQ(err.find("workflow gave up"), std::string::npos) << err;
  }
}

}  // namespace
