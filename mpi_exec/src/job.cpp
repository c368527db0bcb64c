#include "job.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <tuple>
#include <utility>

#include "loops.hpp"
#include "pinning.hpp"
#include "start_check.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/thread_pool_executor.hpp"

namespace parsl::mpi::detail {

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

// Every rank reaches the same verdict (the start check makes it so), so each returns
// without talking to the others; only rank 0 prints.
int config_failure(int rank, const std::string& what) {
  if (rank == 0) std::fprintf(stderr, "parsl: %s\n", what.c_str());
  return 2;
}

// OnFailure::abort_job: a failed start or run ends the whole job, with the error printed
// once (by rank 0, before this). Rank 0 aborts; the others give it 2 s to, then abort
// themselves (a launcher that dies while aborting must not leave them behind).
[[noreturn]] void abort_on_failure(int rank, int status) {
  if (rank == 0) {
    std::fprintf(stderr, "parsl: stopping the whole job (MPI_Abort), as embedded parsl-mpi does on failure "
                         "(parsl::OnFailure::abort_job)\n");
    std::fflush(stderr);
    // MPICH's hydra forwards output asynchronously and kills on abort: without a moment
    // here it sometimes drops the error just printed (seen in 1 of 5 runs under load).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    MPI_Abort(MPI_COMM_WORLD, status);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  MPI_Abort(MPI_COMM_WORLD, status);
  std::abort();
}

// What must be the same on every rank: the tree's shape and the workers' behaviour.
std::string settings_of(const MpiOptions& o) {
  return "fanout=" + std::to_string(o.fanout) + "\nranks-per-node=" + std::to_string(o.ranks_per_node) +
         "\nprefetch=" + std::to_string(o.prefetch) + "\nmax-prefetch=" + std::to_string(o.max_prefetch) +
         "\nmax-batch=" + std::to_string(o.max_batch) + "\npin=" + (o.pin.value_or(true) ? "true" : "false") +
         "\nmonitoring=" + (o.monitoring ? "true" : "false") + "\nmonitoring-interval=" +
         std::to_string(o.sample_interval) + "\nemulate=" + std::to_string(o.emulate_nodes) + "x" +
         std::to_string(o.emulate_workers);
}

// Each node's hardware, measured by its lowest rank, and each worker's cores
// (Machine::worker_block), chosen on its node from what the launcher bound each rank to.
// Embedded, a worker keeps inside its launcher's binding and counts the host code's ranks on
// the node; otherwise the job is all parsl's, and the node's cores are divided among its
// workers. Rank 0 gets, through the nodes' lowest ranks, each node's hardware and only the
// blocks that are not Machine::core_block's: O(nodes) at rank 0, not O(ranks).
void gather_nodes(Job& job) {
  constexpr int kWords = 16;  // cores 0..1023 as a bit mask
  struct Bound {
    std::uint64_t mask[kWords];
    std::int32_t worker;
  };
  auto to_mask = [](const std::vector<int>& cores, std::uint64_t* mask) {
    for (int c : cores)
      if (c >= 0 && c < 64 * kWords) mask[c / 64] |= std::uint64_t{1} << (c % 64);
  };
  const RankPlace me = job.topo.place(job.rank);
  MPI_Comm node;
  PARSL_MPI_CHECK(MPI_Comm_split(job.channel->comm(), me.node, job.rank, &node));
  int node_rank = 0, node_ranks = 1;
  MPI_Comm_rank(node, &node_rank);
  MPI_Comm_size(node, &node_ranks);
  NodeHardware hw;  // the node's lowest rank measures, and tells the others its cores
  if (node_rank == 0) {
    hw = measure_node();
    std::snprintf(hw.host, sizeof hw.host, "%s", serial::this_host().c_str());
  }
  int hw_cores = hw.cores;
  int node_cores = 1;
  std::vector<int> allowed = bound_cores(node_cores);
  Bound mine{};
  to_mask(allowed, mine.mask);
  mine.worker = me.role == Role::worker;
  std::vector<Bound> all(static_cast<std::size_t>(node_ranks));
  int rc = MPI_Bcast(&hw_cores, 1, MPI_INT, 0, node);
  if (rc == MPI_SUCCESS) rc = MPI_Allgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, node);
  if (rc != MPI_SUCCESS) MPI_Comm_free(&node);
  PARSL_MPI_CHECK(rc);
  bool standard = true;  // the block is core_block's over the node's measured cores
  if (me.role == Role::worker) {
    Machine::Seat seat;
    seat.node_cores = node_cores;
    seat.local_worker = me.local_worker;
    seat.node_workers = me.node_workers;
    seat.node_ranks = node_ranks;
    if (job.embedded && job.opts.ranks_per_node == 0) {  // real nodes, a host code beside
      seat.allowed = allowed;
      seat.same = seat.index = 0;
      for (int r = 0; r < node_ranks; ++r) {
        const Bound& b = all[static_cast<std::size_t>(r)];
        if (!b.worker || !std::equal(b.mask, b.mask + kWords, mine.mask)) continue;
        seat.index += r < node_rank;
        ++seat.same;
      }
      std::tie(seat.launcher_local, seat.launcher_ranks) = launcher_local_rank();
    }
    job.block = Machine::worker_block(seat);
    standard = job.block == Machine::core_block(me.local_worker, me.node_workers, std::max(1, hw_cores));
    const bool inside = !seat.allowed.empty() && static_cast<int>(seat.allowed.size()) < node_cores;
    std::string allowed_text;
    for (int c : seat.allowed) allowed_text += (allowed_text.empty() ? "" : ",") + std::to_string(c);
    job.block_how = inside ? "inside the launcher's binding (cores " + allowed_text + ", " +
                                 std::to_string(seat.same) + (seat.same == 1 ? " worker" : " workers") + " bound there)"
                    : seat.launcher_ranks > node_ranks
                        ? std::to_string(seat.launcher_ranks) + " ranks of the job share " +
                              std::to_string(node_cores) + " cores (the host code's counted)"
                        : std::to_string(me.node_workers) + " workers share " + std::to_string(node_cores) + " cores";
  }
  // On the node: the lowest rank collects the blocks that are not standard, as
  // {rank, mask words...} records.
  constexpr int kRecord = 1 + kWords;
  std::vector<std::uint64_t> record;
  if (!standard) {
    record.resize(kRecord);
    record[0] = static_cast<std::uint64_t>(job.rank);
    to_mask(job.block, record.data() + 1);
  }
  auto gatherv = [](const std::vector<std::uint64_t>& mine_words, MPI_Comm comm, int me_in, int n) {
    std::vector<int> counts(me_in == 0 ? static_cast<std::size_t>(n) : 0), at;
    const int count = static_cast<int>(mine_words.size());
    PARSL_MPI_CHECK(MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm));
    std::vector<std::uint64_t> out;
    if (me_in == 0) {
      at.resize(counts.size());
      int total = 0;
      for (std::size_t i = 0; i < counts.size(); ++i) at[i] = std::exchange(total, total + counts[i]);
      out.resize(static_cast<std::size_t>(total));
    }
    PARSL_MPI_CHECK(MPI_Gatherv(mine_words.data(), count, MPI_UINT64_T, out.data(), counts.data(), at.data(),
                                MPI_UINT64_T, 0, comm));
    return out;
  };
  std::vector<std::uint64_t> node_records;
  try {
    node_records = gatherv(record, node, node_rank, node_ranks);
  } catch (...) {
    MPI_Comm_free(&node);
    throw;
  }
  MPI_Comm_free(&node);
  // Between the nodes' lowest ranks (rank 0 first: it is node 0's): hardware and records.
  MPI_Comm leaders;
  PARSL_MPI_CHECK(MPI_Comm_split(job.channel->comm(), node_rank == 0 ? 0 : MPI_UNDEFINED, me.node, &leaders));
  if (leaders == MPI_COMM_NULL) return;
  int lead_rank = 0, lead_size = 1;
  MPI_Comm_rank(leaders, &lead_rank);
  MPI_Comm_size(leaders, &lead_size);
  std::vector<NodeHardware> hardware(job.rank == 0 ? static_cast<std::size_t>(lead_size) : 0);
  std::vector<std::uint64_t> records;
  try {
    PARSL_MPI_CHECK(MPI_Gather(&hw, sizeof hw, MPI_BYTE, hardware.data(), sizeof hw, MPI_BYTE, 0, leaders));
    records = gatherv(node_records, leaders, lead_rank, lead_size);
  } catch (...) {
    MPI_Comm_free(&leaders);
    throw;
  }
  MPI_Comm_free(&leaders);
  if (job.rank != 0) return;
  job.hardware = std::move(hardware);
  for (std::size_t i = 0; i + kRecord <= records.size(); i += kRecord) {
    std::vector<int>& cores = job.blocks[static_cast<int>(records[i])];
    for (int c = 0; c < 64 * kWords; ++c)
      if (records[i + 1 + static_cast<std::size_t>(c / 64)] >> (c % 64) & 1) cores.push_back(c);
  }
}

// --parsl-mpi-emulate: the virtual tree instead of the real one. Every rank builds the same
// plan, so a plan that does not fit fails the same way everywhere. Emulated nodes have one
// core per worker and otherwise rank 0's node's hardware; no real worker binds anywhere.
int start_emulation(Job& job) {
  const MpiOptions& o = job.opts;
  try {
    job.plan = std::make_unique<EmulationPlan>(
        EmulationPlan::build(o.emulate_nodes, o.emulate_workers, o.fanout, o.prefetch, job.size));
  } catch (const std::exception& e) {
    job.error = e.what();
    return config_failure(job.rank, e.what());
  }
  job.plan->hand_over(job.topo);
  job.router = std::make_unique<Router>(*job.channel, *job.plan);
  const int single = job.plan->single_of(job.rank);
  if (single >= 0) job.vlink = std::make_unique<VirtualLink>(*job.router, single);
  if (job.rank == 0) {
    NodeHardware hw = measure_node();
    hw.cores = o.emulate_workers;
    for (int n = 0; n < o.emulate_nodes; ++n) {
      std::snprintf(hw.host, sizeof hw.host, "emulated-%d", n);
      job.hardware.push_back(hw);
    }
  }
  return 0;
}

MpiExecutor* find_mpi_executor(Config& config) {
  for (auto& e : config.executors)
    if (auto* m = dynamic_cast<MpiExecutor*>(e.get())) return m;
  return nullptr;
}

}  // namespace

int Job::outcome(int status) const {
  if (status != 0 && on_failure == OnFailure::abort_job && size > 1) abort_on_failure(rank, status);
  return status;
}

void Job::abort(const std::exception& e) const {
  std::fprintf(stderr, "parsl: rank %d stops the job: %s\n", rank, e.what());
  std::fflush(stderr);
  MPI_Abort(channel ? channel->comm() : comm, 3);
  std::abort();
}

int start_job(Job& job, Config& config, bool root_multiple) {
  PARSL_MPI_CHECK(MPI_Comm_rank(job.comm, &job.rank));
  PARSL_MPI_CHECK(MPI_Comm_size(job.comm, &job.size));
  const int rank = job.rank;
  MpiOptions& opts = job.opts;
  job.exec = find_mpi_executor(config);
  std::string problem;
  try {
    opts = job.exec ? job.exec->options() : MpiOptions{};
    const MpiOptions from_cli = MpiOptions::from_config(config);
    for (const auto& kv : config.mpi_options) {
      if (kv.first == "fanout") opts.fanout = from_cli.fanout;
      if (kv.first == "ranks-per-node") opts.ranks_per_node = from_cli.ranks_per_node;
      if (kv.first == "prefetch") opts.prefetch = from_cli.prefetch;
      if (kv.first == "max-prefetch") opts.max_prefetch = from_cli.max_prefetch;
      if (kv.first == "max-batch") opts.max_batch = from_cli.max_batch;
      if (kv.first == "pin") opts.pin = from_cli.pin;
      if (kv.first == "start-timeout") opts.start_timeout = from_cli.start_timeout;
      if (kv.first == "emulate") {
        opts.emulate_nodes = from_cli.emulate_nodes;
        opts.emulate_workers = from_cli.emulate_workers;
      }
    }
    opts.monitoring = from_cli.monitoring;  // from Config::monitoring, on every rank
    opts.sample_interval = from_cli.sample_interval;
    if (!opts.pin) opts.pin = !job.embedded;  // embedded: the host code owns the binding
  } catch (const std::exception& e) {
    problem = e.what();
  }
  if (job.size == 1 && problem.empty() && opts.emulate_nodes > 0)
    problem = "--parsl-mpi-emulate needs more than one rank: rank 0, the sub-masters of one path down the "
              "emulated tree and at least one rank to host the rest (start with mpirun -np 6)";
  if (job.size == 1) return problem.empty() ? kOneRank : (job.error = problem, config_failure(rank, problem));

  // Every rank of `comm` says it has started, with its settings and any problem, before
  // anything collective: a mistake on one rank fails the start on all (or, if a rank never
  // comes, ends the job after start_timeout), never a hang.
  if (problem.empty()) problem = thread_level_problem(rank == 0 && root_multiple);
  const std::string verdict =
      start_check(job.comm, rank, job.size, problem.empty() ? settings_of(opts) : "", problem, opts.start_timeout);
  if (!verdict.empty()) return job.error = verdict, config_failure(rank, verdict);

  std::vector<int> nodes;
  try {
    job.channel = std::make_unique<Channel>(job.comm);
    nodes = node_of_each_rank(job.channel->comm(), opts.ranks_per_node);
  } catch (const std::exception& e) {
    job.abort(e);
  }
  if (opts.emulate_nodes > 0) return start_emulation(job);
  try {
    job.topo = Topology::build(nodes, opts.fanout, opts.prefetch);
  } catch (const std::exception& e) {
    job.error = e.what();
    return config_failure(rank, e.what());
  }
  try {
    gather_nodes(job);
  } catch (const std::exception& e) {
    job.abort(e);
  }
  return 0;
}

int serve(Job& job) {
  int status = 0;
  if (job.plan) {
    try {
      if (job.vlink) {
        status = submaster_loop(*job.vlink, job.topo, job.opts,
                                rank_name(job.channel->comm(), job.rank) + " (virtual rank " +
                                    std::to_string(job.vlink->rank()) + ")");
        const int depth = std::min(job.topo.depth_of(job.vlink->rank()), EmulationCounts::kLevels - 1);
        job.router->counts().byes[static_cast<std::size_t>(depth)] += 1;  // it said bye
      } else {
        status = host_loop(*job.router, job.opts);
      }
    } catch (const std::exception& e) {
      job.abort(e);
    }
    return settle(job, status);
  }
  try {
    status = job.topo.role(job.rank) == Role::submaster
                 ? submaster_loop(*job.channel, job.topo, job.opts, rank_name(job.channel->comm(), job.rank))
                 : worker_loop(*job.channel, job.topo, job.opts, job.block, job.block_how);
  } catch (const std::exception& e) {
    job.abort(e);
  }
  return settle(job, status);
}

int settle(Job& job, int status) {
  if (job.router) {
    EmulationSummary s = gather_summary(*job.router);  // collective
    if (job.rank == 0) set_last_emulation(s);
  }
  if (job.on_failure == OnFailure::return_error && job.size > 1 && job.channel) {
    std::uint64_t head[2] = {static_cast<std::uint64_t>(status), job.error.size()};
    PARSL_MPI_CHECK(MPI_Bcast(head, 2, MPI_UINT64_T, 0, job.channel->comm()));
    status = static_cast<int>(head[0]);
    job.error.resize(static_cast<std::size_t>(head[1]));
    if (head[1] > 0)
      PARSL_MPI_CHECK(MPI_Bcast(job.error.data(), static_cast<int>(head[1]), MPI_CHAR, 0, job.channel->comm()));
  }
  return job.outcome(status);
}

std::unique_ptr<DataFlowKernel> start_kernel(Job& job, Config config) {
  if (job.exec == nullptr && config.executors.empty()) {
    auto e = std::make_shared<MpiExecutor>(job.opts);
    job.exec = e.get();
    config.executors.push_back(std::move(e));
  }
  Machine machine = Machine::from(job.topo, job.hardware, job.blocks);
  WorkerBlocks().swap(job.blocks);  // in the Machine now, as is the hardware
  std::vector<NodeHardware>().swap(job.hardware);
  const std::string machine_text = job.plan ? std::string() : machine.describe();
  if (job.exec != nullptr) job.exec->attach(std::move(machine), job.opts);
  std::unique_ptr<DataFlowKernel> dfk;
  try {
    dfk = std::make_unique<DataFlowKernel>(std::move(config));
  } catch (const std::exception& e) {
    job.error = "cannot start the DataFlowKernel: " + describe(std::current_exception());
    std::fprintf(stderr, "parsl: %s\n", job.error.c_str());
    return nullptr;
  }
  const MpiOptions& o = job.opts;
  if (job.plan) {
    dfk->logger().info("MPI executor: " + job.plan->describe());
    return dfk;
  }
  dfk->logger().info("MPI executor: " + std::to_string(job.size) + " ranks, " + std::to_string(job.topo.workers()) +
                     " workers, tree depth " + std::to_string(job.topo.depth()) + ", fan-out " +
                     std::to_string(o.fanout) + ", prefetch " + std::to_string(o.prefetch) + " to " +
                     std::to_string(std::max(o.prefetch, o.max_prefetch)) + "\n" + job.topo.describe() +
                     machine_text);
  if (job.exec == nullptr)
    dfk->logger().warning("no MpiExecutor in the configuration: the " + std::to_string(job.size - 1) +
                          " other ranks stay idle");
  return dfk;
}

void make_local(Config& config, bool embedded) {
  for (auto& e : config.executors)
    if (dynamic_cast<MpiExecutor*>(e.get()) != nullptr) e = std::make_shared<ThreadPoolExecutor>(0, e->label());
  static std::atomic<bool> told{false};  // once per process, not per call
  if (told.exchange(true)) return;
  if (embedded)
    std::fprintf(stderr, "parsl: the executor's communicator has one rank, so tasks run on a local thread pool\n");
  else
    std::fprintf(stderr,
                 "parsl: one MPI rank, so tasks run on a local thread pool (start with mpirun -np N for N-1 "
                 "worker ranks)\n");
}

}  // namespace parsl::mpi::detail
