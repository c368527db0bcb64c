// The launchers: srun, aprun, jsrun, mpiexec (Hydra), mpirun (Open MPI), pals, simple.
#include <set>
#include <sstream>

#include "parsl/launch/command_runner.hpp"
#include "parsl/launch/launcher.hpp"

namespace parsl::launch {

namespace {

std::string with_extra(std::string head, const std::string& extra) {
  if (!extra.empty()) head += ' ' + extra;
  return head;
}

std::vector<std::string> unique_hosts(const std::vector<std::string>& hosts) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& h : hosts)
    if (seen.insert(h).second) out.push_back(h);
  return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// The hosts of the allocation, one per line, in the scheduler's order, into $PARSL_HOSTFILE
// (the batch systems' own files list a host once per slot).
std::string hostfile_setup(const std::string& suffix) {
  return "# The allocation's hosts, one per line.\n"
         "export PARSL_HOSTFILE=\"${PARSL_SUBMIT_DIR:-.}/hosts.${PARSL_SUBMIT_JOB:-0}\"\n"
         "if [ -n \"${PBS_NODEFILE:-}\" ]; then awk '!seen[$0]++' \"$PBS_NODEFILE\"\n"
         "elif [ -n \"${COBALT_NODEFILE:-}\" ]; then awk '!seen[$0]++' \"$COBALT_NODEFILE\"\n"
         "elif [ -n \"${LSB_DJOB_HOSTFILE:-}\" ]; then tail -n +2 \"$LSB_DJOB_HOSTFILE\" | awk '!seen[$0]++'\n"
         "elif [ -n \"${SLURM_JOB_NODELIST:-}\" ]; then scontrol show hostnames \"$SLURM_JOB_NODELIST\"\n"
         "else hostname; fi" +
         suffix + " > \"$PARSL_HOSTFILE\"\n";
}

class Srun final : public Launcher {
 public:
  explicit Srun(std::string extra) : extra_(std::move(extra)) {}
  std::string name() const override { return "srun"; }
  std::string wrap(const std::string& command, const LaunchShape& s) const override {
    std::ostringstream o;
    o << "srun --nodes=" << s.nodes << " --ntasks=" << s.ranks() << " --ntasks-per-node=" << s.ranks_per_node
      << " --cpus-per-task=" << s.cores_per_rank;
    if (s.gpus_per_rank > 0) o << " --gpus-per-task=" << s.gpus_per_rank;
    return with_extra(o.str(), extra_) + ' ' + command;
  }
  std::string task_prefix(int ranks, int cores, const std::vector<std::string>& hosts) const override {
    // --overlap: a step beside the pilot's own, which holds every CPU of the allocation.
    const auto nodes = unique_hosts(hosts);
    std::ostringstream o;
    o << "srun --overlap --ntasks=" << ranks << " --cpus-per-task=" << cores;
    if (!nodes.empty()) o << " --nodes=" << nodes.size() << " --nodelist=" << join(nodes, ",");
    return o.str();
  }

 private:
  std::string extra_;
};

class Aprun final : public Launcher {
 public:
  explicit Aprun(std::string extra) : extra_(std::move(extra)) {}
  std::string name() const override { return "aprun"; }
  std::string wrap(const std::string& command, const LaunchShape& s) const override {
    // -d: cores per rank (depth); -cc depth binds each rank to its own cores.
    std::ostringstream o;
    o << "aprun -n " << s.ranks() << " -N " << s.ranks_per_node << " -d " << s.cores_per_rank << " -cc depth";
    return with_extra(o.str(), extra_) + ' ' + command;
  }
  std::string task_prefix(int ranks, int cores, const std::vector<std::string>& hosts) const override {
    // aprun -L takes node ids: nid00042 → 42.
    std::vector<std::string> nids;
    for (const auto& h : unique_hosts(hosts)) {
      std::string digits;
      for (char c : h)
        if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
      const auto nz = digits.find_first_not_of('0');
      nids.push_back(digits.empty() ? h : (nz == std::string::npos ? "0" : digits.substr(nz)));
    }
    std::ostringstream o;
    o << "aprun -n " << ranks << " -d " << cores << " -cc depth";
    if (!nids.empty()) o << " -L " << join(nids, ",");
    return o.str();
  }

 private:
  std::string extra_;
};

class Jsrun final : public Launcher {
 public:
  explicit Jsrun(std::string extra) : extra_(std::move(extra)) {}
  std::string name() const override { return "jsrun"; }
  std::string wrap(const std::string& command, const LaunchShape& s) const override {
    // One resource set per rank: -n sets, -r per host, -a 1 task, -c cores, -g GPUs each.
    std::ostringstream o;
    o << "jsrun -n " << s.ranks() << " -r " << s.ranks_per_node << " -a 1 -c " << s.cores_per_rank << " -g "
      << s.gpus_per_rank << " -b packed:" << s.cores_per_rank;
    return with_extra(o.str(), extra_) + ' ' + command;
  }
  std::string task_prefix(int ranks, int cores, const std::vector<std::string>&) const override {
    // jsrun chooses hosts itself within the job (a host list needs an ERF file).
    std::ostringstream o;
    o << "jsrun -n " << ranks << " -a 1 -c " << cores << " -g 0 -b packed:" << cores;
    return o.str();
  }

 private:
  std::string extra_;
};

class Mpiexec final : public Launcher {  // MPICH and Intel MPI (Hydra)
 public:
  explicit Mpiexec(std::string extra) : extra_(std::move(extra)) {}
  std::string name() const override { return "mpiexec"; }
  std::string setup(const LaunchShape&) const override { return hostfile_setup(""); }
  std::string wrap(const std::string& command, const LaunchShape& s) const override {
    std::ostringstream o;
    o << "mpiexec -n " << s.ranks() << " -ppn " << s.ranks_per_node << " -f \"$PARSL_HOSTFILE\"";
    return with_extra(o.str(), extra_) + ' ' + command;
  }
  std::string task_prefix(int ranks, int, const std::vector<std::string>& hosts) const override {
    std::ostringstream o;
    o << "mpiexec -n " << ranks;
    if (!hosts.empty()) o << " -hosts " << join(unique_hosts(hosts), ",");
    return o.str();
  }

 private:
  std::string extra_;
};

class Mpirun final : public Launcher {  // Open MPI
 public:
  explicit Mpirun(std::string extra) : extra_(std::move(extra)) {}
  std::string name() const override { return "mpirun"; }
  std::string setup(const LaunchShape& s) const override {
    return hostfile_setup(" | sed 's/$/ slots=" + std::to_string(s.ranks_per_node) + "/'");
  }
  std::string wrap(const std::string& command, const LaunchShape& s) const override {
    // Open MPI forwards only the variables named with -x to ranks on other hosts.
    std::ostringstream o;
    o << "mpirun -np " << s.ranks() << " --map-by ppr:" << s.ranks_per_node << ":node";
    if (s.cores_per_rank > 1) o << ":PE=" << s.cores_per_rank;
    o << " --hostfile \"$PARSL_HOSTFILE\" -x PARSL_JOB_END_TIME -x PARSL_LAUNCHER -x PARSL_DRAIN -x PARSL_SUBMIT_DIR"
         " -x PARSL_SUBMIT_JOB";
    return with_extra(o.str(), extra_) + ' ' + command;
  }
  std::string task_prefix(int ranks, int, const std::vector<std::string>& hosts) const override {
    std::ostringstream o;
    o << "mpirun -np " << ranks;
    if (!hosts.empty()) {
      std::vector<std::string> slots;
      for (const auto& h : unique_hosts(hosts)) {
        long n = 0;
        for (const auto& x : hosts) n += x == h;
        slots.push_back(h + ":" + std::to_string(n));
      }
      o << " --host " << join(slots, ",");
    }
    return o.str();
  }

 private:
  std::string extra_;
};

class Pals final : public Launcher {  // Cray PALS mpiexec on PBS Pro machines
 public:
  explicit Pals(std::string extra) : extra_(std::move(extra)) {}
  std::string name() const override { return "pals"; }
  std::string setup(const LaunchShape&) const override { return hostfile_setup(""); }
  std::string wrap(const std::string& command, const LaunchShape& s) const override {
    std::ostringstream o;
    o << "mpiexec -n " << s.ranks() << " --ppn " << s.ranks_per_node << " --depth " << s.cores_per_rank
      << " --cpu-bind depth --hostfile \"$PARSL_HOSTFILE\"";
    return with_extra(o.str(), extra_) + ' ' + command;
  }
  std::string task_prefix(int ranks, int cores, const std::vector<std::string>& hosts) const override {
    std::ostringstream o;
    o << "mpiexec -n " << ranks << " --depth " << cores << " --cpu-bind depth";
    if (!hosts.empty()) o << " --hosts " << join(unique_hosts(hosts), ",");
    return o.str();
  }

 private:
  std::string extra_;
};

class Simple final : public Launcher {
 public:
  explicit Simple(std::string extra) : extra_(std::move(extra)) {}
  std::string name() const override { return "simple"; }
  std::string wrap(const std::string& command, const LaunchShape&) const override {
    return extra_.empty() ? command : extra_ + ' ' + command;
  }
  std::string task_prefix(int ranks, int, const std::vector<std::string>& hosts) const override {
    // The pilot was started by hand: Open MPI's mpirun, the MPI this machine has.
    return Mpirun({}).task_prefix(ranks, 1, hosts);
  }

 private:
  std::string extra_;
};

}  // namespace

std::vector<std::string> launcher_names() { return {"srun", "aprun", "jsrun", "mpiexec", "mpirun", "pals", "simple"}; }

std::unique_ptr<Launcher> make_launcher(const std::string& name, const std::string& extra) {
  if (name == "srun") return std::make_unique<Srun>(extra);
  if (name == "aprun") return std::make_unique<Aprun>(extra);
  if (name == "jsrun") return std::make_unique<Jsrun>(extra);
  if (name == "mpiexec") return std::make_unique<Mpiexec>(extra);
  if (name == "mpirun") return std::make_unique<Mpirun>(extra);
  if (name == "pals") return std::make_unique<Pals>(extra);
  if (name == "simple") return std::make_unique<Simple>(extra);
  throw LaunchError("unknown launcher '" + name + "'; known launchers: " + join(launcher_names(), ", "));
}

}  // namespace parsl::launch
