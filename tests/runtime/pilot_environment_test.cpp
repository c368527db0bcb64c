// What a task inherits from the pilot job, and the job's end: the launcher's variables are
// not passed on (a task may start an MPI program of its own), and no task starts once the
// job drains.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>

#include "../../runtime/src/task_environment.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

const auto shell = parsl::bash_app("pilot_env.shell", [](const std::string& cmd) { return cmd; });
std::atomic<int> value_runs{0};
const auto value = parsl::app("pilot_env.value", [](int x) {
  value_runs.fetch_add(1);
  return x * 2;
});

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TaskEnvironment, LauncherVariablesAreKnownAndTheJobsAreKept) {
  using parsl::detail::is_launcher_variable;
  for (const char* v : {"PMIX_RANK=3", "PMIX_SERVER_URI41=x", "PMI_FD=5", "PMI_RANK=1", "OMPI_COMM_WORLD_RANK=2",
                        "OMPI_MCA_orte_hnp_uri=x", "OMPI_MCA_ess=^singleton", "OMPI_MCA_pmix=^s1",
                        "OMPI_FILE_LOCATION=/tmp/x", "SLURM_STEP_ID=0", "SLURM_STEPID=0", "SLURM_PROCID=1",
                        "SLURM_LOCALID=1", "SLURM_PMIX_MAPPING_SERV=x", "SLURM_PMIXP_ABORT_AGENT_PORT=1",
                        "SLURM_SRUN_COMM_PORT=1", "SLURM_MPI_TYPE=pmix", "MPI_LOCALRANKID=0", "HYDRA_CONTROL_FD=3",
                        "ALPS_APP_PE=4", "PALS_RANKID=2", "JSM_NAMESPACE_RANK=1", "PRTE_MCA_x=1"})
    EXPECT_TRUE(is_launcher_variable(v)) << v;
  for (const char* v : {"SLURM_JOB_ID=6", "SLURM_JOB_NODELIST=vm", "SLURM_NTASKS=4", "PBS_NODEFILE=/x",
                        "LSB_DJOB_HOSTFILE=/x", "COBALT_NODEFILE=/x", "OMPI_MCA_btl=^openib",
                        "OMPI_ALLOW_RUN_AS_ROOT=1", "OPAL_PREFIX=/opt/ompi", "PATH=/bin", "PARSL_WORKER_RANK=1",
                        "PMIXY=1"})
    EXPECT_FALSE(is_launcher_variable(v)) << v;
}

TEST(TaskEnvironment, ABashTaskDoesNotInheritThePilotsLauncherVariables) {
  ::setenv("PMIX_RANK", "3", 1);
  ::setenv("OMPI_COMM_WORLD_RANK", "3", 1);
  ::setenv("SLURM_STEP_ID", "1", 1);
  ::setenv("SLURM_JOB_ID", "77", 1);
  ::setenv("OMPI_MCA_btl", "self", 1);
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto file = (parsl::test::scratch_dir() / "pilot-env.txt").string();
  shell.with({.out = parsl::Redirect::truncate(file)})(
           "echo \"[${PMIX_RANK:-}][${OMPI_COMM_WORLD_RANK:-}][${SLURM_STEP_ID:-}][$SLURM_JOB_ID][$OMPI_MCA_btl]\"")
      .get();
  EXPECT_EQ(slurp(file), "[][][][77][self]\n");
  for (const char* v : {"PMIX_RANK", "OMPI_COMM_WORLD_RANK", "SLURM_STEP_ID", "SLURM_JOB_ID", "OMPI_MCA_btl"})
    ::unsetenv(v);
}

TEST(JobEnd, NoTaskStartsOnceTheJobDrains) {
  const auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  ::setenv("PARSL_JOB_END_TIME", std::to_string(static_cast<long>(now) + 100).c_str(), 1);
  ::setenv("PARSL_DRAIN", "200", 1);  // draining began 100 s ago
  {
    parsl::Config c = parsl::test::thread_config();
    c.retries = 3;  // not retried: a retry would meet the same end
    parsl::DataFlowKernel dfk(c);
    auto a = value(1);
    auto b = shell("true");
    EXPECT_THROW(a.get(), parsl::JobEnding);
    try {
      b.get();
      FAIL() << "the bash task ran";
    } catch (const parsl::JobEnding& e) {
      EXPECT_NE(std::string(e.what()).find("draining began 200 s before"), std::string::npos) << e.what();
    }
    EXPECT_EQ(value_runs.load(), 0);  // never started, and not retried
  }
  // Without draining, a task whose walltime would cross the job's end does not start;
  // one that fits does.
  ::setenv("PARSL_DRAIN", "0", 1);
  {
    parsl::DataFlowKernel dfk(parsl::test::thread_config());
    EXPECT_THROW(shell.with({.walltime = 500s})("true").get(), parsl::JobEnding);
    EXPECT_NO_THROW(shell.with({.walltime = 5s})("true").get());
    EXPECT_EQ(value(4).get(), 8);
    EXPECT_EQ(value_runs.load(), 1);
  }
  ::unsetenv("PARSL_JOB_END_TIME");
  ::unsetenv("PARSL_DRAIN");
}

TEST(JobEnd, ABadEndTimeStopsTheKernelNamingIt) {
  ::setenv("PARSL_JOB_END_TIME", "tomorrow", 1);
  try {
    parsl::DataFlowKernel dfk(parsl::test::thread_config());
    FAIL() << "the kernel started";
  } catch (const parsl::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("PARSL_JOB_END_TIME='tomorrow'"), std::string::npos) << e.what();
  }
  ::unsetenv("PARSL_JOB_END_TIME");
}

}  // namespace
