// Providers against recorded scheduler output. Slurm's is what Slurm 22.05 printed on this
// machine (../shared/slurm-local.md); PBS Pro's, Torque's, Cobalt's and LSF's follow the
// formats in their documentation (qstat -f [-F json], Cobalt's qstat table, bjobs -json),
// as those schedulers cannot be installed here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fake_runner.hpp"
#include "parsl/launch/provider.hpp"

namespace parsl::launch {
namespace {

using test::fail;
using test::FakeRunner;
using test::ok;
namespace fs = std::filesystem;

JobSpec sample_spec(const fs::path& dir) {
  JobSpec s;
  s.name = "camp";
  s.shape = {2, 4, 3, 0};
  s.walltime = 5400;
  s.queue = "debug";
  s.account = "ABC123";
  s.worker_init = "module load hdf5";
  s.launcher = "srun";
  s.command = "srun -n 8 parsl-run tasks.txt";
  s.work_dir = dir;
  s.script_path = dir / "job-1.sh";
  s.stdout_path = dir / "job-1.out";
  s.stderr_path = dir / "job-1.err";
  s.exit_path = dir / "job-1.exit";
  return s;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Walltime, ParsesTheSchedulersForms) {
  EXPECT_EQ(parse_walltime("01:30:00"), 5400);
  EXPECT_EQ(parse_walltime("90"), 5400);  // minutes, as sbatch reads a bare number
  EXPECT_EQ(parse_walltime("45s"), 45);
  EXPECT_EQ(parse_walltime("10:30"), 630);
  EXPECT_EQ(parse_walltime("1-02:00:00"), 93600);
  EXPECT_EQ(format_walltime(93600), "26:00:00");
  for (const char* bad : {"", "abc", "1:xx", "00:00:00", "1:70:00", "12:", "-5"})
    EXPECT_THROW(parse_walltime(bad), LaunchError) << bad;
}

TEST(JobStates, AreParslsSpellings) {
  for (const char* name : {"UNKNOWN", "PENDING", "RUNNING", "CANCELLED", "COMPLETED", "FAILED", "TIMEOUT", "HELD", "MISSING"}) {
    const auto s = job_state_from_string(name);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(to_string(*s), name);
  }
  EXPECT_FALSE(job_state_from_string("DONE"));
  EXPECT_TRUE(is_terminal(JobState::timeout));
  EXPECT_FALSE(is_terminal(JobState::held));
}

TEST(JobBody, WritesTheExitFileAndTheEndTime) {
  const JobSpec s = sample_spec("/scratch/run");
  const std::string body = job_body(s);
  EXPECT_TRUE(contains(body, "cd /scratch/run"));
  EXPECT_TRUE(contains(body, "export PARSL_JOB_END_TIME=$((PARSL_JOB_START + 5400))"));
  EXPECT_TRUE(contains(body, "export PARSL_LAUNCHER=srun"));
  EXPECT_TRUE(contains(body, "module load hdf5\n"));
  EXPECT_TRUE(contains(body, "mv -f /scratch/run/job-1.exit.tmp /scratch/run/job-1.exit"));
  EXPECT_LT(body.find("module load"), body.find("srun -n 8"));
}

TEST(Settle, TheExitFileDecides) {
  const fs::path dir = fs::temp_directory_path() / ("settle-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  JobStatus missing;
  missing.state = JobState::missing;
  EXPECT_EQ(settle(missing, dir / "none.exit").state, JobState::missing);
  std::ofstream(dir / "a.exit") << "0\n";
  std::ofstream(dir / "b.exit") << "75\n";
  EXPECT_EQ(settle(missing, dir / "a.exit").state, JobState::completed);
  const JobStatus drained = settle(missing, dir / "b.exit");
  EXPECT_EQ(drained.state, JobState::failed);
  EXPECT_EQ(drained.exit_code, 75);
  fs::remove_all(dir);
}

// ---- Slurm ----

TEST(Slurm, ScriptSubmitStatusCancel) {
  FakeRunner runner([](const std::vector<std::string>& argv, const std::string&) {
    if (argv[0] == "sbatch") return ok("4242;local\n");
    if (argv[0] == "squeue")
      return ok("9|RUNNING|None|0:18|19:42\n10|PENDING|Dependency|0:00|20:00\n"
                "11|TIMEOUT|TimeLimit|1:26|INVALID\n12|CANCELLED|None|0:04|19:56\n13|PREEMPTED|None|3:00|0:00\n");
    if (argv[0] == "scancel") return fail(1, "scancel: error: Kill job error on job id 9: Invalid job id specified\n");
    return fail(127, "unexpected");
  });
  auto p = make_provider("slurm", runner);
  const JobSpec spec = sample_spec("/scratch/run");
  const std::string script = p->script(spec);
  for (const char* line : {"#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=4", "#SBATCH --cpus-per-task=3",
                           "#SBATCH --time=01:30:00", "#SBATCH --partition=debug", "#SBATCH --account=ABC123",
                           "#SBATCH --output=/scratch/run/job-1.out"})
    EXPECT_TRUE(contains(script, line)) << line;
  EXPECT_EQ(script.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_EQ(p->submit(spec, "41"), "4242");
  EXPECT_EQ(runner.calls.back(),
            (std::vector<std::string>{"sbatch", "--parsable", "--dependency=afterany:41", "/scratch/run/job-1.sh"}));
  auto st = p->status({"9", "10", "11", "12", "13", "14"});
  EXPECT_EQ(st["9"].state, JobState::running);
  EXPECT_EQ(st["9"].elapsed, 18);
  EXPECT_EQ(st["9"].time_left, 19 * 60 + 42);
  EXPECT_EQ(st["10"].state, JobState::pending);
  EXPECT_EQ(st["10"].reason, "Dependency");
  EXPECT_EQ(st["11"].state, JobState::timeout);
  EXPECT_EQ(st["12"].state, JobState::cancelled);
  EXPECT_EQ(st["13"].state, JobState::failed);
  EXPECT_EQ(st["13"].reason, "preempted");
  EXPECT_EQ(st["14"].state, JobState::missing);  // forgotten after MinJobAge
  EXPECT_EQ(runner.calls.back()[5], "9,10,11,12,13,14");
  EXPECT_NO_THROW(p->cancel({"9"}));  // already gone is not an error
}

TEST(Slurm, AForgottenSingleJobIsMissingNotAnError) {
  FakeRunner runner([](const std::vector<std::string>&, const std::string&) {
    return fail(1, "slurm_load_jobs error: Invalid job id specified\n");
  });
  auto p = make_provider("slurm", runner);
  EXPECT_EQ(p->status({"1"})["1"].state, JobState::missing);
}

TEST(Slurm, AnUnreachableControllerIsAClearError) {
  FakeRunner runner([](const std::vector<std::string>&, const std::string&) {
    CommandResult r = fail(1, "slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n");
    return r;
  });
  auto p = make_provider("slurm", runner);
  try {
    p->status({"5"});
    FAIL() << "no error";
  } catch (const LaunchError& e) {
    EXPECT_TRUE(contains(e.what(), "squeue")) << e.what();
    EXPECT_TRUE(contains(e.what(), "Unable to contact slurm controller")) << e.what();
  }
  FakeRunner hangs([](const std::vector<std::string>&, const std::string&) {
    CommandResult r;
    r.timed_out = true;
    r.exit_code = 143;
    return r;
  });
  auto q = make_provider("slurm", hangs, std::chrono::seconds(7));
  try {
    q->status({"5"});
    FAIL() << "no error";
  } catch (const LaunchError& e) {
    EXPECT_TRUE(contains(e.what(), "did not answer within 7 s")) << e.what();
  }
  FakeRunner garbage([](const std::vector<std::string>&, const std::string&) { return ok("Submitted batch job\n"); });
  EXPECT_THROW(make_provider("slurm", garbage)->submit(sample_spec("/x")), LaunchError);
}

TEST(Slurm, RejectsIdsThatCouldInjectIntoACommand) {
  FakeRunner runner([](const std::vector<std::string>&, const std::string&) { return ok(""); });
  auto p = make_provider("slurm", runner);
  EXPECT_THROW(p->status({"5; rm -rf ~"}), LaunchError);
  EXPECT_THROW(p->cancel({""}), LaunchError);
  EXPECT_TRUE(runner.calls.empty());
}

// ---- PBS Pro ----

constexpr const char* kPbsProJson = R"({
    "timestamp":1700000000,
    "pbs_version":"2022.1.1",
    "pbs_server":"pbs01",
    "Jobs":{
        "101.pbs01":{ "Job_Name":"camp", "job_state":"R",
            "resources_used":{ "walltime":"00:10:00", "ncpus":64 },
            "Resource_List":{ "walltime":"01:00:00", "select":"2:ncpus=32:mpiprocs=4" } },
        "102.pbs01":{ "Job_Name":"camp", "job_state":"Q", "comment":"Not Running: Insufficient amount of resource: ncpus" },
        "103.pbs01":{ "Job_Name":"camp", "job_state":"F", "Exit_status":0 },
        "104.pbs01":{ "Job_Name":"camp", "job_state":"F", "Exit_status":-29 },
        "105.pbs01":{ "Job_Name":"camp", "job_state":"F", "Exit_status":271 },
        "106.pbs01":{ "Job_Name":"camp", "job_state":"H" }
    }
})";

TEST(PbsPro, ScriptSubmitStatus) {
  FakeRunner runner([](const std::vector<std::string>& argv, const std::string&) {
    if (argv[0] == "qsub") return ok("107.pbs01\n");
    if (argv[0] == "qstat") return fail(153, "qstat: Unknown Job Id 108.pbs01\n", kPbsProJson);
    return ok("");
  });
  auto p = make_provider("pbspro", runner);
  JobSpec spec = sample_spec("/scratch/run");
  spec.shape.gpus_per_rank = 1;
  const std::string script = p->script(spec);
  EXPECT_TRUE(contains(script, "#PBS -l select=2:ncpus=12:mpiprocs=4:ngpus=4\n")) << script;
  EXPECT_TRUE(contains(script, "#PBS -l walltime=01:30:00\n"));
  EXPECT_TRUE(contains(script, "#PBS -q debug\n#PBS -A ABC123\n"));
  EXPECT_EQ(p->submit(spec, "106.pbs01"), "107.pbs01");
  EXPECT_EQ(runner.calls.back(),
            (std::vector<std::string>{"qsub", "-W", "depend=afterany:106.pbs01", "/scratch/run/job-1.sh"}));
  auto st = p->status({"101.pbs01", "102.pbs01", "103.pbs01", "104.pbs01", "105.pbs01", "106.pbs01", "108.pbs01"});
  EXPECT_EQ(st["101.pbs01"].state, JobState::running);
  EXPECT_EQ(st["101.pbs01"].time_left, 3000);
  EXPECT_EQ(st["102.pbs01"].state, JobState::pending);
  EXPECT_TRUE(contains(st["102.pbs01"].reason, "Insufficient"));
  EXPECT_EQ(st["103.pbs01"].state, JobState::completed);
  EXPECT_EQ(st["104.pbs01"].state, JobState::timeout);
  EXPECT_EQ(st["105.pbs01"].state, JobState::cancelled);
  EXPECT_EQ(st["106.pbs01"].state, JobState::held);
  EXPECT_EQ(st["108.pbs01"].state, JobState::missing);
}

TEST(PbsPro, DamagedJsonIsAClearError) {
  FakeRunner runner([](const std::vector<std::string>&, const std::string&) { return ok("{\"Jobs\": {"); });
  try {
    make_provider("pbspro", runner)->status({"1.x"});
    FAIL();
  } catch (const LaunchError& e) {
    EXPECT_TRUE(contains(e.what(), "qstat -f -F json -x 1.x")) << e.what();
  }
}

// ---- Torque ----

constexpr const char* kTorqueQstat =
    "Job Id: 2001.bw\n"
    "    Job_Name = camp\n"
    "    job_state = R\n"
    "    resources_used.walltime = 00:05:00\n"
    "    Resource_List.walltime = 01:00:00\n"
    "    Variable_List = PBS_O_QUEUE=normal,PBS_O_HOME=/u/alice,\n"
    "\tPBS_O_PATH=/usr/bin\n"
    "    Walltime.Remaining = 3300\n"
    "\n"
    "Job Id: 2002.bw\n"
    "    job_state = C\n"
    "    exit_status = -11\n"
    "\n"
    "Job Id: 2003.bw\n"
    "    job_state = C\n"
    "    exit_status = 0\n"
    "\n"
    "Job Id: 2004.bw\n"
    "    job_state = Q\n";

TEST(Torque, ScriptAndQstatF) {
  FakeRunner runner([](const std::vector<std::string>& argv, const std::string&) {
    if (argv[0] == "qsub") return ok("2005.bw\n");
    return ok(kTorqueQstat);
  });
  auto p = make_provider("torque", runner);
  JobSpec spec = sample_spec("/scratch/run");
  spec.node_features = "xe";
  EXPECT_TRUE(contains(p->script(spec), "#PBS -l nodes=2:ppn=12:xe\n"));
  EXPECT_EQ(p->submit(spec), "2005.bw");
  auto st = p->status({"2001.bw", "2002.bw", "2003.bw", "2004.bw.bw-server.ncsa.illinois.edu"});
  EXPECT_EQ(st["2001.bw"].state, JobState::running);
  EXPECT_EQ(st["2001.bw"].time_left, 3300);
  EXPECT_EQ(st["2002.bw"].state, JobState::timeout);
  EXPECT_EQ(st["2003.bw"].state, JobState::completed);
  EXPECT_EQ(st["2004.bw.bw-server.ncsa.illinois.edu"].state, JobState::pending);  // ids match before the first dot
}

// ---- Cobalt ----

TEST(Cobalt, SubmitOnTheCommandLineAndTheQstatTable) {
  FakeRunner runner([](const std::vector<std::string>& argv, const std::string&) {
    if (argv[0] == "qsub") return ok("Job routed to queue \"debug-cache-quad\".\nMemory mode set to cache quad for queue debug-cache-quad\n349182\n");
    return ok("JobID   User   WallTime  Nodes  State      Location\n"
              "======================================================\n"
              "349180  alice  00:30:00  128    running    3824-3951\n"
              "349181  alice  00:30:00  128    queued     None\n"
              "349183  alice  00:30:00  128    user_hold  None\n");
  });
  auto p = make_provider("cobalt", runner);
  JobSpec spec = sample_spec("/scratch/run");
  const auto argv = p->submit_command(spec, "349180");
  EXPECT_EQ(argv[0], "qsub");
  const std::string line = shell_join(argv);
  EXPECT_TRUE(contains(line, "-n 2 -t 90 -q debug -A ABC123 --dependencies 349180")) << line;
  EXPECT_TRUE(contains(line, "--mode script /scratch/run/job-1.sh")) << line;
  EXPECT_EQ(p->submit(spec), "349182");
  auto st = p->status({"349180", "349181", "349183", "349179"});
  EXPECT_EQ(st["349180"].state, JobState::running);
  EXPECT_EQ(st["349181"].state, JobState::pending);
  EXPECT_EQ(st["349183"].state, JobState::held);
  EXPECT_EQ(st["349179"].state, JobState::missing);  // Cobalt forgets ended jobs at once
}

// ---- LSF ----

TEST(Lsf, ScriptOnStdinAndBjobsJson) {
  FakeRunner runner([](const std::vector<std::string>& argv, const std::string&) {
    if (argv[0] == "bsub") return ok("Job <88001> is submitted to queue <batch>.\n");
    return fail(255, "",
                R"J({"COMMAND":"bjobs","JOBS":5,"RECORDS":[
      {"JOBID":"88001","STAT":"RUN","EXIT_CODE":"","EXIT_REASON":"","RUN_TIME":"120 second(s)","TIME_LEFT":"0:58 L"},
      {"JOBID":"88002","STAT":"PEND","EXIT_CODE":"","EXIT_REASON":"","RUN_TIME":"0 second(s)","TIME_LEFT":""},
      {"JOBID":"88003","STAT":"EXIT","EXIT_CODE":"140","EXIT_REASON":"TERM_RUNLIMIT: job killed after reaching LSF run time limit","RUN_TIME":"3600 second(s)","TIME_LEFT":""},
      {"JOBID":"88004","STAT":"DONE","EXIT_CODE":"","EXIT_REASON":"","RUN_TIME":"60 second(s)","TIME_LEFT":""},
      {"JOBID":"88005","ERROR":"Job <88005> is not found"}]})J");
  });
  auto p = make_provider("lsf", runner);
  const fs::path dir = fs::temp_directory_path() / ("lsf-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  JobSpec spec = sample_spec(dir);
  const std::string script = p->script(spec);
  EXPECT_TRUE(contains(script, "#BSUB -nnodes 2\n#BSUB -W 01:30\n#BSUB -P ABC123\n#BSUB -q debug\n")) << script;
  std::ofstream(spec.script_path) << script;
  EXPECT_EQ(p->submit(spec, "88000"), "88001");
  EXPECT_EQ(runner.calls.back(), (std::vector<std::string>{"bsub", "-w", "ended(88000)"}));
  EXPECT_EQ(runner.inputs.back(), script);  // bsub < script
  auto st = p->status({"88001", "88002", "88003", "88004", "88005"});
  EXPECT_EQ(st["88001"].state, JobState::running);
  EXPECT_EQ(st["88001"].time_left, 58 * 60);
  EXPECT_EQ(st["88002"].state, JobState::pending);
  EXPECT_EQ(st["88003"].state, JobState::timeout);
  EXPECT_EQ(st["88004"].state, JobState::completed);
  EXPECT_EQ(st["88005"].state, JobState::missing);
  fs::remove_all(dir);
}

TEST(Providers, UnknownNamesListTheKnownOnes) {
  FakeRunner runner([](const std::vector<std::string>&, const std::string&) { return ok(""); });
  try {
    make_provider("sge", runner);
    FAIL();
  } catch (const LaunchError& e) {
    EXPECT_TRUE(contains(e.what(), "'sge'"));
    EXPECT_TRUE(contains(e.what(), "slurm, pbspro, torque, cobalt, lsf"));
  }
}

}  // namespace
}  // namespace parsl::launch
