#include "parsl/mpi_exec/run.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string_view>
#include <thread>

#include "channel.hpp"
#include "loops.hpp"
#include "pinning.hpp"
#include "start_check.hpp"
#include "parsl/mpi_exec/mpi_executor.hpp"
#include "parsl/mpi_exec/topology.hpp"
#include "parsl/runtime/data_flow_kernel.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/run.hpp"
#include "parsl/runtime/thread_pool_executor.hpp"

namespace parsl {

namespace {

std::vector<int> node_of_each_rank(MPI_Comm comm, int ranks_per_node) {
  int rank = 0, size = 0;
  PARSL_MPI_CHECK(MPI_Comm_rank(comm, &rank));
  PARSL_MPI_CHECK(MPI_Comm_size(comm, &size));
  std::vector<int> nodes(static_cast<std::size_t>(size));
  if (ranks_per_node > 0) {
    for (int r = 0; r < size; ++r) nodes[static_cast<std::size_t>(r)] = r / ranks_per_node;
    return nodes;
  }
  MPI_Comm local;
  PARSL_MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local));
  int leader = rank;
  const int rc = MPI_Allreduce(&rank, &leader, 1, MPI_INT, MPI_MIN, local);
  MPI_Comm_free(&local);
  PARSL_MPI_CHECK(rc);
  PARSL_MPI_CHECK(MPI_Allgather(&leader, 1, MPI_INT, nodes.data(), 1, MPI_INT, comm));
  return nodes;
}

// What each node offers, at rank 0 (empty elsewhere): measured by the lowest rank of each
// node, gathered.
std::vector<mpi::NodeHardware> node_hardware(MPI_Comm comm, const mpi::Topology& topo) {
  int rank = 0;
  PARSL_MPI_CHECK(MPI_Comm_rank(comm, &rank));
  std::vector<int> lowest;  // per node
  for (int r = 0; r < topo.size(); ++r) {
    const auto n = static_cast<std::size_t>(topo.place(r).node);
    if (lowest.size() <= n) lowest.resize(n + 1, -1);
    if (lowest[n] < 0) lowest[n] = r;
  }
  mpi::NodeHardware mine;
  if (lowest[static_cast<std::size_t>(topo.place(rank).node)] == rank) {
    mine = mpi::detail::measure_node();
    std::snprintf(mine.host, sizeof mine.host, "%s", serial::this_host().c_str());
  }
  std::vector<mpi::NodeHardware> all(rank == 0 ? static_cast<std::size_t>(topo.size()) : 0);
  PARSL_MPI_CHECK(MPI_Gather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, 0, comm));
  std::vector<mpi::NodeHardware> out;
  if (rank == 0)
    for (int r : lowest) out.push_back(all[static_cast<std::size_t>(r)]);
  return out;
}

// Every rank reaches the same verdict (the start check makes it so), so each returns
// without talking to the others; only rank 0 prints.
int config_failure(int rank, const std::string& what) {
  if (rank == 0) std::fprintf(stderr, "parsl: %s\n", what.c_str());
  return 2;
}

// OnFailure::abort_job: a failed start or run ends the whole job, with the error printed
// once (by rank 0, before this). Rank 0 aborts; the others wait for it to, and abort
// themselves if that takes more than a minute.
[[noreturn]] void abort_on_failure(int rank, int status) {
  if (rank == 0) {
    std::fprintf(stderr, "parsl: stopping the whole job (MPI_Abort), as an embedded parsl::run does on failure "
                         "(parsl::OnFailure::abort_job)\n");
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, status);
  }
  std::this_thread::sleep_for(std::chrono::seconds(60));
  MPI_Abort(MPI_COMM_WORLD, status);
  std::abort();
}

// What must be the same on every rank: the tree's shape and the workers' behaviour.
std::string settings_of(const MpiOptions& o) {
  return "fanout=" + std::to_string(o.fanout) + "\nranks-per-node=" + std::to_string(o.ranks_per_node) +
         "\nprefetch=" + std::to_string(o.prefetch) + "\nmax-prefetch=" + std::to_string(o.max_prefetch) +
         "\nmax-batch=" + std::to_string(o.max_batch) + "\npin=" + (o.pin ? "true" : "false") +
         "\nmonitoring=" + (o.monitoring ? "true" : "false") + "\nmonitoring-interval=" +
         std::to_string(o.sample_interval);
}

[[noreturn]] void abort_job(MPI_Comm comm, int rank, const std::exception& e) {
  std::fprintf(stderr, "parsl: rank %d stops the job: %s\n", rank, e.what());
  std::fflush(stderr);
  MPI_Abort(comm, 3);
  std::abort();
}

MpiExecutor* find_mpi_executor(Config& config) {
  for (auto& e : config.executors)
    if (auto* m = dynamic_cast<MpiExecutor*>(e.get())) return m;
  return nullptr;
}

int run_on(MPI_Comm comm, Config config, const std::function<void()>& workflow, OnFailure on_failure) {
  int rank = 0, size = 0;
  PARSL_MPI_CHECK(MPI_Comm_rank(comm, &rank));
  PARSL_MPI_CHECK(MPI_Comm_size(comm, &size));
  auto outcome = [&](int status) {
    if (status != 0 && on_failure == OnFailure::abort_job && size > 1) abort_on_failure(rank, status);
    return status;
  };

  MpiOptions opts;
  MpiExecutor* exec = find_mpi_executor(config);
  std::string problem;
  try {
    opts = exec ? exec->options() : MpiOptions{};
    const MpiOptions from_cli = MpiOptions::from_config(config);
    for (const auto& kv : config.mpi_options) {
      if (kv.first == "fanout") opts.fanout = from_cli.fanout;
      if (kv.first == "ranks-per-node") opts.ranks_per_node = from_cli.ranks_per_node;
      if (kv.first == "prefetch") opts.prefetch = from_cli.prefetch;
      if (kv.first == "max-prefetch") opts.max_prefetch = from_cli.max_prefetch;
      if (kv.first == "max-batch") opts.max_batch = from_cli.max_batch;
      if (kv.first == "pin") opts.pin = from_cli.pin;
      if (kv.first == "start-timeout") opts.start_timeout = from_cli.start_timeout;
    }
    opts.monitoring = from_cli.monitoring;  // from Config::monitoring, on every rank
    opts.sample_interval = from_cli.sample_interval;
  } catch (const std::exception& e) {
    problem = e.what();
  }

  if (size == 1) {
    if (!problem.empty()) return config_failure(rank, problem);
    // No workers: run the tasks on threads of this process instead.
    for (auto& e : config.executors)
      if (dynamic_cast<MpiExecutor*>(e.get()) != nullptr) e = std::make_shared<ThreadPoolExecutor>(0, e->label());
    static std::atomic<bool> told{false};  // once per process, not per run() call
    if (!told.exchange(true))
      std::fprintf(stderr,
                   "parsl: one MPI rank, so tasks run on a local thread pool (start with mpirun -np N for N-1 "
                   "worker ranks)\n");
    return run_local(0, nullptr, std::move(config), workflow);
  }

  // Every rank of `comm` says it has started, with its settings and any problem, before
  // anything collective: a mistake on one rank fails the start on all (or, if a rank never
  // comes, ends the job after start_timeout), never a hang.
  if (problem.empty()) problem = mpi::detail::thread_level_problem();
  const std::string verdict = mpi::detail::start_check(comm, rank, size, problem.empty() ? settings_of(opts) : "",
                                                       problem, opts.start_timeout);
  if (!verdict.empty()) return outcome(config_failure(rank, verdict));

  std::unique_ptr<mpi::detail::Channel> channel;
  std::vector<int> nodes;
  try {
    channel = std::make_unique<mpi::detail::Channel>(comm);
    nodes = node_of_each_rank(channel->comm(), opts.ranks_per_node);
  } catch (const std::exception& e) {
    abort_job(comm, rank, e);
  }
  mpi::Topology topo;
  try {
    topo = mpi::Topology::build(nodes, opts.fanout, opts.prefetch);
  } catch (const std::exception& e) {
    return outcome(config_failure(rank, e.what()));
  }

  std::vector<mpi::NodeHardware> hardware;
  try {
    hardware = node_hardware(channel->comm(), topo);
  } catch (const std::exception& e) {
    abort_job(channel->comm(), rank, e);
  }

  if (rank != 0) {
    try {
      return outcome(topo.place(rank).role == mpi::Role::submaster ? mpi::detail::submaster_loop(*channel, topo, opts)
                                                                    : mpi::detail::worker_loop(*channel, topo, opts));
    } catch (const std::exception& e) {
      abort_job(channel->comm(), rank, e);
    }
  }

  // Rank 0: the kernel, the workflow on a second thread, MPI on this one.
  if (exec == nullptr && config.executors.empty()) {
    auto e = std::make_shared<MpiExecutor>(opts);
    exec = e.get();
    config.executors.push_back(std::move(e));
  }
  const mpi::Machine machine = mpi::Machine::from(topo, hardware);
  if (exec != nullptr) exec->attach(machine);
  std::atomic<bool> failed{false};
  std::unique_ptr<DataFlowKernel> dfk;
  try {
    dfk = std::make_unique<DataFlowKernel>(std::move(config));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parsl: cannot start the DataFlowKernel: %s\n", describe(std::current_exception()).c_str());
    failed = true;
  }
  std::thread workflow_thread;
  if (dfk) {
    dfk->logger().info("MPI executor: " + std::to_string(size) + " ranks, " + std::to_string(topo.workers()) +
                       " workers, tree depth " + std::to_string(topo.depth()) + ", fan-out " +
                       std::to_string(opts.fanout) + ", prefetch " + std::to_string(opts.prefetch) + " to " +
                       std::to_string(std::max(opts.prefetch, opts.max_prefetch)) + "\n" +
                       topo.describe() + machine.describe());
    if (exec == nullptr)
      dfk->logger().warning("no MpiExecutor in the configuration: the " + std::to_string(size - 1) +
                            " other ranks stay idle");
    workflow_thread = std::thread([&] {
      // Record a failure before cleanup(): cleanup stops the tree, with an error or not.
      if (!detail::call_workflow(*dfk, workflow)) failed = true;
      if (!detail::shutdown_kernel(*dfk)) failed = true;
      if (exec) exec->wake();
    });
  }
  try {
    mpi::detail::root_loop(*channel, topo, dfk ? exec : nullptr, dfk ? &dfk->logger() : nullptr,
                           [&] { return failed.load(); });
  } catch (const std::exception& e) {
    abort_job(channel->comm(), 0, e);
  }
  if (workflow_thread.joinable()) workflow_thread.join();
  return outcome(failed ? 1 : 0);
}


}  // namespace

int launcher_rank() noexcept {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"})
    if (const char* r = std::getenv(name)) return std::atoi(r);
  return -1;
}

int launcher_size() noexcept {
  // Not SLURM_NTASKS: a batch script that runs the program without srun sees the whole
  // allocation's task count there, and one rank is then what the user asked for.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* s = std::getenv(name)) return std::atoi(s);
  return -1;
}

int run(MPI_Comm comm, Config config, const std::function<void()>& workflow, OnFailure on_failure) {
  return run_on(comm, std::move(config), workflow, on_failure);
}

int run(int argc, char** argv, Config config, const std::function<void()>& workflow) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  }
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int status = 0;
  const int expected = launcher_size();
  if (size == 1 && expected > 1) {
    // A rank that lost its launcher (mpirun killed during start-up) or a program built
    // against another MPI than the launcher's comes up alone. Running the whole workflow
    // here would run every task a second time beside the real job: refuse.
    std::fprintf(stderr,
                 "parsl: the launcher started %d ranks, but this process is alone in MPI_COMM_WORLD "
                 "(its launcher is gone, or the program was built with a different MPI than the "
                 "launcher's); not running the workflow\n",
                 expected);
    status = 3;
  } else if (Config::help_requested(argc, argv)) {
    if (rank == 0) std::fputs(Config::options_help().c_str(), stdout);
  } else {
    // The whole job runs parsl: every rank returns the status, and the program ends.
    status = run_on(MPI_COMM_WORLD, std::move(config), workflow, OnFailure::return_error);
  }
  if (!initialized) MPI_Finalize();
  return status;
}

int run(int argc, char** argv, const std::function<void()>& workflow) {
  Config config;
  try {
    config = Config::from_args(argc, argv);
  } catch (const std::exception& e) {
    // Every rank sees the same command line; report once, before MPI is even started.
    if (!Config::help_requested(argc, argv)) {
      if (launcher_rank() <= 0) std::fprintf(stderr, "parsl: %s\n", e.what());
      return 2;
    }
  }
  return run(argc, argv, std::move(config), workflow);
}

}  // namespace parsl
