// Launchers, machine profiles, the real command runner, and the pilot's state machine over
// a fake Slurm.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "fake_runner.hpp"
#include "parsl/launch/launcher.hpp"
#include "parsl/launch/settings.hpp"
#include "parsl/launch/submission.hpp"

namespace parsl::launch {
namespace {

using test::fail;
using test::FakeRunner;
using test::ok;
namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Launchers, EachPlacesRanksWithItsOwnFlags) {
  const LaunchShape shape{4, 8, 2, 1};
  EXPECT_EQ(make_launcher("srun")->wrap("prog", shape),
            "srun --nodes=4 --ntasks=32 --ntasks-per-node=8 --cpus-per-task=2 --gpus-per-task=1 prog");
  EXPECT_EQ(make_launcher("aprun")->wrap("prog", shape), "aprun -n 32 -N 8 -d 2 -cc depth prog");
  EXPECT_EQ(make_launcher("jsrun")->wrap("prog", shape), "jsrun -n 32 -r 8 -a 1 -c 2 -g 1 -b packed:2 prog");
  EXPECT_EQ(make_launcher("mpiexec")->wrap("prog", shape), "mpiexec -n 32 -ppn 8 -f \"$PARSL_HOSTFILE\" prog");
  EXPECT_TRUE(contains(make_launcher("mpirun")->wrap("prog", shape),
                       "mpirun -np 32 --map-by ppr:8:node:PE=2 --hostfile \"$PARSL_HOSTFILE\" -x PARSL_JOB_END_TIME"));
  EXPECT_EQ(make_launcher("pals")->wrap("prog", shape),
            "mpiexec -n 32 --ppn 8 --depth 2 --cpu-bind depth --hostfile \"$PARSL_HOSTFILE\" prog");
  EXPECT_EQ(make_launcher("simple")->wrap("prog", shape), "prog");
  EXPECT_EQ(make_launcher("srun", "--mpi=pmix")->wrap("prog", {1, 2, 1, 0}),
            "srun --nodes=1 --ntasks=2 --ntasks-per-node=2 --cpus-per-task=1 --mpi=pmix prog");
  // The host file comes from the batch system's own list.
  const std::string setup = make_launcher("mpiexec")->setup(shape);
  for (const char* var : {"PBS_NODEFILE", "COBALT_NODEFILE", "LSB_DJOB_HOSTFILE", "SLURM_JOB_NODELIST"})
    EXPECT_TRUE(contains(setup, var)) << var;
  EXPECT_TRUE(contains(make_launcher("mpirun")->setup(shape), "slots=8"));
  EXPECT_THROW(make_launcher("ibrun"), LaunchError);
}

TEST(Launchers, TaskPrefixesNameTheReservedHosts) {
  const std::vector<std::string> hosts = {"nid00012", "nid00012", "nid00013"};
  EXPECT_EQ(make_launcher("srun")->task_prefix(3, 2, hosts),
            "srun --overlap --ntasks=3 --cpus-per-task=2 --nodes=2 --nodelist=nid00012,nid00013");
  EXPECT_EQ(make_launcher("aprun")->task_prefix(3, 2, hosts), "aprun -n 3 -d 2 -cc depth -L 12,13");
  EXPECT_EQ(make_launcher("mpiexec")->task_prefix(3, 1, hosts), "mpiexec -n 3 -hosts nid00012,nid00013");
  EXPECT_EQ(make_launcher("mpirun")->task_prefix(3, 1, hosts), "mpirun -np 3 --host nid00012:2,nid00013:1");
  EXPECT_EQ(make_launcher("jsrun")->task_prefix(2, 4, hosts), "jsrun -n 2 -a 1 -c 4 -g 0 -b packed:4");
}

TEST(Launchers, TheMpiexecHostFileRunsInBash) {
  const fs::path dir = fs::temp_directory_path() / ("hosts-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "nodefile") << "n1\nn1\nn2\nn2\nn3\n";
  std::ofstream(dir / "t.sh") << "PBS_NODEFILE=" << (dir / "nodefile").string()
                              << " PARSL_SUBMIT_DIR=" << dir.string() << " PARSL_SUBMIT_JOB=4\n"
                              << make_launcher("mpirun")->setup({3, 2, 1, 0}) << "cat \"$PARSL_HOSTFILE\"\n";
  SubprocessRunner r;
  const CommandResult out = r.run({"bash", (dir / "t.sh").string()}, std::chrono::seconds(10));
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(out.out, "n1 slots=2\nn2 slots=2\nn3 slots=2\n");
  fs::remove_all(dir);
}

// ---- the real runner ----

TEST(SubprocessRunner, CapturesFeedsAndTimesOut) {
  SubprocessRunner r;
  CommandResult c = r.run({"cat"}, std::chrono::seconds(10), "hello\n");
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_EQ(c.out, "hello\n");
  c = r.run({"bash", "-c", "echo out; echo err >&2; exit 3"}, std::chrono::seconds(10));
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_EQ(c.out, "out\n");
  EXPECT_EQ(c.err, "err\n");
  EXPECT_TRUE(r.run({"no-such-program-here"}, std::chrono::seconds(1)).not_found);
  // A hung scheduler command: killed with all it started, within the timeout and the grace.
  const auto t0 = std::chrono::steady_clock::now();
  c = r.run({"bash", "-c", "sleep 60 & sleep 60"}, std::chrono::seconds(1));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(c.timed_out);
  EXPECT_LT(took, 10.0);
  try {
    run_checked(r, {"bash", "-c", "sleep 60"}, std::chrono::seconds(1));
    FAIL();
  } catch (const LaunchError& e) {
    EXPECT_TRUE(contains(e.what(), "did not answer within 1 s")) << e.what();
  }
}

TEST(ShellQuote, RoundTripsThroughBash) {
  SubprocessRunner r;
  const std::vector<std::string> words = {"plain", "two words", "it's", "$HOME", "a\"b", "", "x;y"};
  const CommandResult c = r.run({"bash", "-c", "printf '%s|' " + shell_join(words)}, std::chrono::seconds(5));
  EXPECT_EQ(c.out, "plain|two words|it's|$HOME|a\"b||x;y|");
}

// ---- profiles ----

class Profiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("sites-" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return dir / name;
  }
  fs::path dir;
};

TEST_F(Profiles, MergeWithTheCommandLineWinning) {
  Settings s = load_profile(write("m.conf", "# a machine\nprovider = slurm\nnodes = 4\n\nqueue = 'normal'\n"));
  EXPECT_EQ(s.get("partition"), "normal");  // queue and partition are one setting
  EXPECT_EQ(s.origin("nodes"), (dir / "m.conf").string() + ":3");
  Settings cli;
  cli.set("nodes", "16", "--nodes");
  s.merge(cli);
  EXPECT_EQ(s.get_int("nodes", 1, 1), 16);
  EXPECT_EQ(s.origin("nodes"), "--nodes");
  EXPECT_EQ(s.get("provider"), "slurm");
}

TEST_F(Profiles, BadLinesNameTheFileAndLine) {
  auto message = [&](const std::string& text) {
    try {
      load_profile(write("bad.conf", text));
    } catch (const LaunchError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_TRUE(contains(message("provider = slurm\nnodez = 4\n"), "bad.conf:2: unknown setting 'nodez'"));
  EXPECT_TRUE(contains(message("nodes = 4\nnodes = 5\n"), "bad.conf:2: 'nodes' is set twice (first on line 1)"));
  EXPECT_TRUE(contains(message("just words\n"), "bad.conf:1: expected 'key = value'"));
  Settings s = load_profile(write("n.conf", "nodes = many\n"));
  try {
    s.get_int("nodes", 1, 1);
    FAIL();
  } catch (const LaunchError& e) {
    EXPECT_TRUE(contains(e.what(), "n.conf:1: nodes must be a whole number")) << e.what();
  }
  EXPECT_THROW(load_profile(dir / "absent.conf"), LaunchError);
}

TEST(ShippedSites, EveryProfileLoadsAndNamesAKnownProviderAndLauncher) {
  const auto sites = list_sites();
  for (const char* name : {"bluewaters", "frontera", "summit", "theta", "polaris", "local-slurm", "local"})
    ASSERT_TRUE(sites.count(name)) << name;
  FakeRunner runner([](const std::vector<std::string>&, const std::string&) { return ok(""); });
  for (const auto& [name, path] : sites) {
    const Settings s = load_profile(path);
    EXPECT_NO_THROW(make_provider(s.get("provider"), runner)) << name;
    EXPECT_NO_THROW(make_launcher(s.get("launcher"))) << name;
    EXPECT_FALSE(s.get("description").empty()) << name;
  }
  const Settings bw = load_profile(sites.at("bluewaters"));
  EXPECT_EQ(bw.get("provider"), "torque");
  EXPECT_EQ(bw.get("launcher"), "aprun");
  EXPECT_EQ(load_profile(sites.at("summit")).get("launcher"), "jsrun");
  EXPECT_EQ(load_profile(sites.at("theta")).get("provider"), "cobalt");
}

// ---- the pilot over a fake Slurm ----

// A Slurm that keeps jobs in a map: tests set their states and exit files.
struct FakeSlurm {
  std::map<std::string, std::string> state;  // id → squeue %T
  std::vector<std::vector<std::string>> submitted;
  std::vector<std::string> cancelled;
  int next = 100;
  FakeRunner runner{[this](const std::vector<std::string>& argv, const std::string&) {
    if (argv[0] == "sbatch") {
      submitted.push_back(argv);
      const std::string id = std::to_string(next++);
      state[id] = "PENDING";
      return ok(id + "\n");
    }
    if (argv[0] == "squeue") {
      std::string out, ids = argv[5] + ",";
      for (std::size_t at; (at = ids.find(',')) != std::string::npos; ids.erase(0, at + 1)) {
        const std::string id = ids.substr(0, at);
        if (state.count(id)) out += id + "|" + state[id] + "|None|0:05|9:55\n";
      }
      return ok(out);
    }
    if (argv[0] == "scancel") {
      for (std::size_t i = 1; i < argv.size(); ++i) {
        cancelled.push_back(argv[i]);
        state[argv[i]] = "CANCELLED";
      }
      return ok("");
    }
    return fail(127, "unexpected " + argv[0]);
  }};
};

class PilotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base = fs::temp_directory_path() / ("pilot-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base);
  }
  void TearDown() override { fs::remove_all(base); }
  Submission make(std::map<std::string, std::string> extra) {
    Settings s;
    s.set("provider", "slurm", "test");
    s.set("walltime", "00:10:00", "test");
    for (const auto& [k, v] : extra) s.set(k, v, "test");
    return Submission::create(base, s, {"parsl-run", "tasks.txt"});
  }
  void finish(Submission& sub, const std::string& id, const std::string& state, std::optional<int> exit_code) {
    slurm.state[id] = state;
    for (const auto& j : sub.jobs())
      if (j.id == id && exit_code) std::ofstream(sub.exit_path(j.index)) << *exit_code << "\n";
  }
  // The pilot of `sub` over the fake Slurm, with launcher `launcher`.
  Pilot& start(Submission& sub, const char* launcher = "simple") {
    provider = make_provider("slurm", slurm.runner);
    launcher_ = make_launcher(launcher);
    pilot_ = std::make_unique<Pilot>(sub, *provider, *launcher_);
    return *pilot_;
  }
  fs::path base;
  FakeSlurm slurm;
  std::unique_ptr<Provider> provider;
  std::unique_ptr<Launcher> launcher_;
  std::unique_ptr<Pilot> pilot_;
};

TEST_F(PilotTest, AWalltimeKillIsFollowedByAResumedJob) {
  Submission sub = make({{"max-jobs", "3"}});
  Pilot& pilot = start(sub, "srun");
  pilot.submit(1);
  std::ifstream script(sub.script_path(1));
  const std::string first((std::istreambuf_iterator<char>(script)), {});
  EXPECT_TRUE(contains(first, "srun --nodes=1 --ntasks=1 --ntasks-per-node=1 --cpus-per-task=1 parsl-run tasks.txt"));
  EXPECT_TRUE(contains(first, "export PARSL_DRAIN=30\n"));  // 5% of 10 minutes
  slurm.state["100"] = "RUNNING";
  EXPECT_FALSE(pilot.step(1000));
  EXPECT_EQ(sub.jobs()[0].status.state, JobState::running);
  finish(sub, "100", "TIMEOUT", std::nullopt);  // killed: no exit file
  EXPECT_FALSE(pilot.step(1100));
  ASSERT_EQ(sub.jobs().size(), 2u);
  std::ifstream second_script(sub.script_path(2));
  const std::string second((std::istreambuf_iterator<char>(second_script)), {});
  EXPECT_TRUE(contains(second, "parsl-run --resume tasks.txt")) << second;
  EXPECT_TRUE(contains(second, "PARSL_SUBMIT_JOB=2"));
  slurm.state["101"] = "RUNNING";
  pilot.step(1200);
  finish(sub, "101", "COMPLETED", 0);
  EXPECT_TRUE(pilot.step(1300));
  EXPECT_EQ(sub.outcome(), Outcome::done);
  // The record survives a new process.
  Submission again = Submission::open(sub.dir());
  ASSERT_EQ(again.jobs().size(), 2u);
  EXPECT_EQ(again.jobs()[0].status.state, JobState::timeout);
  EXPECT_EQ(again.jobs()[1].status.exit_code, 0);
  EXPECT_EQ(again.outcome(), Outcome::done);
}

TEST_F(PilotTest, DrainedJobsResubmitUntilMaxJobsThenGiveUp) {
  Submission sub = make({{"max-jobs", "2"}});
  Pilot& pilot = start(sub);
  pilot.submit(1);
  finish(sub, "100", "COMPLETED", kExitDrained);
  pilot.step(10);
  ASSERT_EQ(sub.jobs().size(), 2u);
  EXPECT_EQ(sub.jobs()[0].status.state, JobState::failed);
  finish(sub, "101", "COMPLETED", kExitDrained);
  EXPECT_TRUE(pilot.step(20));
  EXPECT_EQ(sub.outcome(), Outcome::gave_up);
  EXPECT_TRUE(contains(sub.why(), "--max-jobs")) << sub.why();
}

TEST_F(PilotTest, AFailedCommandIsNotResubmitted) {
  Submission sub = make({{"max-jobs", "5"}});
  Pilot& pilot = start(sub);
  pilot.submit(1);
  finish(sub, "100", "FAILED", 1);
  EXPECT_TRUE(pilot.step(10));
  EXPECT_EQ(sub.outcome(), Outcome::failed);
  EXPECT_EQ(sub.jobs().size(), 1u);
  EXPECT_TRUE(contains(sub.why(), "job-1.err"));
}

TEST_F(PilotTest, QueueAheadWaitsBehindTheRunningJobAndIsCancelledWhenNotNeeded) {
  Submission sub = make({{"max-jobs", "3"}, {"queue-ahead", "yes"}});
  Pilot& pilot = start(sub);
  pilot.submit(1);
  EXPECT_FALSE(pilot.step(10));
  EXPECT_EQ(sub.jobs().size(), 1u);  // not while the first one waits
  slurm.state["100"] = "RUNNING";
  EXPECT_FALSE(pilot.step(20));
  ASSERT_EQ(sub.jobs().size(), 2u);
  EXPECT_EQ(sub.jobs()[1].after, "100");
  EXPECT_EQ(slurm.submitted.back()[2], "--dependency=afterany:100");
  EXPECT_TRUE(contains(pilot.status_line(25), "next job queued"));
  finish(sub, "100", "COMPLETED", 0);
  EXPECT_FALSE(pilot.step(30));  // done, but job 101 is live until Slurm says it is cancelled
  EXPECT_EQ(sub.outcome(), Outcome::done);
  EXPECT_EQ(slurm.cancelled, (std::vector<std::string>{"101"}));
  EXPECT_TRUE(pilot.step(35));
  EXPECT_TRUE(sub.jobs()[1].cancelled_by_us);
}

TEST_F(PilotTest, CancelFromAnotherProcessStopsTheFollower) {
  Submission sub = make({{"max-jobs", "3"}});
  Pilot& pilot = start(sub);
  pilot.submit(1);
  slurm.state["100"] = "RUNNING";
  pilot.step(10);
  Submission::open(sub.dir()).request_cancel();  // parsl-submit cancel, elsewhere
  EXPECT_TRUE(pilot.step(20));  // cancelled, and the fake Slurm says so at once
  EXPECT_EQ(slurm.cancelled, (std::vector<std::string>{"100"}));
  EXPECT_EQ(sub.outcome(), Outcome::cancelled);
  EXPECT_EQ(sub.jobs().size(), 1u);  // a cancelled campaign is not resubmitted
}

TEST_F(PilotTest, ACancelOutsideParslSubmitEndsTheCampaign) {
  Submission sub = make({{"max-jobs", "3"}});
  Pilot& pilot = start(sub);
  pilot.submit(1);
  finish(sub, "100", "CANCELLED", std::nullopt);  // scancel by hand
  EXPECT_TRUE(pilot.step(10));
  EXPECT_EQ(sub.outcome(), Outcome::cancelled);
  EXPECT_EQ(sub.jobs().size(), 1u);
}

TEST_F(PilotTest, ADamagedRecordIsAClearError) {
  Submission sub = make({});
  std::ofstream(sub.dir() / "submission.json") << "{\"version\": 1, \"jobs\": [";
  try {
    Submission::open(sub.dir());
    FAIL();
  } catch (const LaunchError& e) {
    EXPECT_TRUE(contains(e.what(), "submission.json is damaged")) << e.what();
  }
  EXPECT_THROW(Submission::open(base / "nothing"), LaunchError);
}

TEST(JobCommand, ResumeArgumentsFromTheSecondJob) {
  const std::vector<std::string> cmd = {"/opt/bin/parsl-run", "--retries=2", "t.txt"};
  EXPECT_EQ(job_command(cmd, 1, std::nullopt), cmd);
  EXPECT_EQ(job_command(cmd, 2, std::nullopt),
            (std::vector<std::string>{"/opt/bin/parsl-run", "--resume", "--retries=2", "t.txt"}));
  EXPECT_EQ(job_command({"./sim", "in"}, 2, std::nullopt), (std::vector<std::string>{"./sim", "in"}));
  EXPECT_EQ(job_command({"./sim", "in"}, 3, std::string("--restart latest")),
            (std::vector<std::string>{"./sim", "--restart", "latest", "in"}));
}

}  // namespace
}  // namespace parsl::launch
