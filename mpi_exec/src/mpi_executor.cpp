#include "parsl/mpi_exec/mpi_executor.hpp"

#include <charconv>
#include <thread>

#include "parsl/runtime/errors.hpp"
#include "parsl/serial/text.hpp"

namespace parsl {

namespace {
int parse_option_int(const std::string& name, const std::string& value, int min, int max) {
  int out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || ptr != value.data() + value.size() || out < min || out > max)
    throw ConfigError("bad value '" + excerpt(value) + "' for --parsl-mpi-" + excerpt(name) + ": expected a whole number from " +
                      std::to_string(min) + " to " + std::to_string(max));
  return out;
}
}  // namespace

MpiOptions MpiOptions::from_config(const Config& config) {
  MpiOptions o;
  for (const auto& [name, value] : config.mpi_options) {
    if (name == "fanout") {
      o.fanout = parse_option_int(name, value, 2, 1 << 20);
    } else if (name == "ranks-per-node") {
      o.ranks_per_node = parse_option_int(name, value, 0, 1 << 20);
    } else if (name == "prefetch") {
      o.prefetch = parse_option_int(name, value, 0, 1 << 20);
    } else if (name == "max-prefetch") {
      o.max_prefetch = parse_option_int(name, value, 0, 1 << 20);
    } else if (name == "max-batch") {
      o.max_batch = parse_option_int(name, value, 1, 1 << 20);
    } else if (name == "start-timeout") {
      o.start_timeout = parse_option_int(name, value, 1, 86400);
    } else if (name == "emulate") {
      // NODESxWORKERS, e.g. 8192x32.
      const auto x = value.find('x');
      if (x == std::string::npos)
        throw ConfigError("bad value '" + excerpt(value) +
                          "' for --parsl-mpi-emulate: expected NODESxWORKERS, such as 8192x32");
      try {
        o.emulate_nodes = parse_option_int(name, value.substr(0, x), 1, 1 << 20);
        o.emulate_workers = parse_option_int(name, value.substr(x + 1), 1, 1 << 12);
      } catch (const ConfigError&) {
        throw ConfigError("bad value '" + excerpt(value) +
                          "' for --parsl-mpi-emulate: expected NODESxWORKERS, nodes from 1 to 1048576 and "
                          "workers per node from 1 to 4096, such as 8192x32");
      }
      if (static_cast<long long>(o.emulate_nodes) * (o.emulate_workers + 1) > (1LL << 24))
        throw ConfigError("--parsl-mpi-emulate=" + excerpt(value) + " is more than 16 million virtual ranks");
    } else if (name == "pin") {
      if (value == "true" || value == "1")
        o.pin = true;
      else if (value == "false" || value == "0")
        o.pin = false;
      else
        throw ConfigError("bad value '" + excerpt(value) + "' for --parsl-mpi-pin: expected true or false");
    } else {
      throw ConfigError("unknown option --parsl-mpi-" + excerpt(name) +
                        " (known: --parsl-mpi-fanout, --parsl-mpi-ranks-per-node, --parsl-mpi-prefetch, "
                        "--parsl-mpi-max-prefetch, --parsl-mpi-max-batch, --parsl-mpi-pin, --parsl-mpi-start-timeout, "
                        "--parsl-mpi-emulate)");
    }
  }
  if (!(config.monitoring_interval >= 0 && config.monitoring_interval <= 86400))
    throw ConfigError("Config::monitoring_interval must be from 0 (no samples) to 86400 s, got " +
                      std::to_string(config.monitoring_interval));
  o.monitoring = config.monitoring;
  if (config.monitoring) o.sample_interval = config.monitoring_interval;
  return o;
}

std::vector<Executor::Node> MpiExecutor::nodes() const {
  std::vector<Node> out;
  for (const auto& n : machine_->nodes())
    out.push_back(Node{n.hw.host, n.hw.cores, n.hw.memory, static_cast<int>(n.workers.size())});
  return out;
}

MpiExecutor::MpiExecutor(MpiOptions options) : Executor(options.label), options_(std::move(options)) {}

MpiExecutor::~MpiExecutor() = default;

void MpiExecutor::start() {
  if (!attached_)
    throw ConfigError("MpiExecutor '" + label() +
                      "' has no MPI job: start the workflow with parsl::run(...) under mpirun, which connects it "
                      "to the worker ranks");
}

void MpiExecutor::submit(TaskHandle task) {
  mpi::TaskMsg msg{task.id(),      task.attempt(),     task.priority(), task.app_name(),
                   task.encode_arguments(), task.walltime(), task.input_files(), task.outputs(),
                   task.isolated(), task.resources(), task.mpi_app()};
  {
    std::lock_guard lock(mutex_);
    if (stop_)
      throw KernelError("MpiExecutor '" + label() + "' is shut down: task " + std::to_string(task.id()) +
                        " cannot be sent");
    // Checked under the lock that cancel() takes: a try cancelled before this point is
    // dropped here, one cancelled after is found by cancel().
    if (!task.live()) return;
    incoming_.emplace_back(std::move(msg), std::move(task));
  }
  cv_.notify_one();
}

void MpiExecutor::check_resources(const AppDef& app, const Resources& need) const {
  if (app.mpi && (app.options.isolate))
    throw ConfigError("app '" + app.name + "' is an MPI app and cannot be isolated: its ranks share a communicator");
  if (need.plain() && !app.mpi) return;
  machine_->check(app.name, need);
}

void MpiExecutor::cancel(std::uint64_t task_id) {
  {
    std::lock_guard lock(mutex_);
    for (auto it = incoming_.begin(); it != incoming_.end(); ++it)
      if (it->first.id == task_id) {
        incoming_.erase(it);
        return;
      }
    cancels_.push_back(task_id);
  }
  cv_.notify_one();
}

void MpiExecutor::shutdown() {
  std::unique_lock lock(mutex_);
  stop_ = true;
  cv_.notify_one();
  if (attached_) stopped_cv_.wait(lock, [&] { return stopped_; });
}

void MpiExecutor::mark_stopped() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  stopped_cv_.notify_all();
}

void MpiExecutor::share(std::uint64_t id, const std::shared_ptr<const std::string>& bytes) {
  {
    std::lock_guard lock(mutex_);
    shares_.emplace_back(id, bytes);
  }
  cv_.notify_one();
}

void MpiExecutor::unshare(std::uint64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;  // the tree is stopping: the workers drop everything at their end
    released_.push_back(id);
  }
  cv_.notify_one();
}

void MpiExecutor::mark_ready() {
  {
    std::lock_guard lock(mutex_);
    ready_ = true;
  }
  stopped_cv_.notify_all();
}

bool MpiExecutor::wait_ready(std::chrono::duration<double> timeout) {
  std::unique_lock lock(mutex_);
  return stopped_cv_.wait_for(lock, timeout, [&] { return ready_ || stopped_; }) && ready_;
}

void MpiExecutor::wake() { cv_.notify_one(); }

MpiExecutor::Pending MpiExecutor::take(std::chrono::microseconds wait) {
  Pending out;
  std::unique_lock lock(mutex_);
  auto news = [&] { return !incoming_.empty() || !cancels_.empty() || !shares_.empty() || !released_.empty() || stop_; };
  if (!news()) {
    if (wait.count() > 0) {
      cv_.wait_for(lock, wait, news);
    } else {
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
  }
  out.shares.swap(shares_);
  out.released.swap(released_);
  out.tasks.swap(incoming_);
  out.cancels.swap(cancels_);
  out.stop = stop_;
  return out;
}

}  // namespace parsl
