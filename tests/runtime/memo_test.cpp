#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

std::atomic<int> g_runs{0};
const auto costly = parsl::app(
    "memo_test.costly",
    [](const std::string& name, std::vector<int> v) {
      g_runs.fetch_add(1);
      return name + ":" + std::to_string(v.size());
    },
    parsl::AppOptions{.cache = true});
const auto costly_v2 = parsl::app(
    "memo_test.costly_v2",
    [](int x) {
      g_runs.fetch_add(1);
      return x;
    },
    parsl::AppOptions{.cache = true, .version = "2"});
const auto not_cached = parsl::app("memo_test.not_cached", [](int x) {
  g_runs.fetch_add(1);
  return x;
});
const auto produce = parsl::app("memo_test.produce", [](int x) { return std::vector<int>(static_cast<std::size_t>(x), 1); });

// Counts how often it is encoded.
std::atomic<int> g_encodes{0};
struct Counted {
  int value = 0;
  template <class Archive>
  void save(Archive& ar) const {
    g_encodes.fetch_add(1);
    ar(value);
  }
  template <class Archive>
  void load(Archive& ar) {
    ar(value);
  }
};
const auto isolated_flaky = parsl::app(
    "memo_test.isolated_flaky",
    [](Counted c) {
      // Fails every try when given 1. Its result is encoded in the child, never again here.
      if (c.value == 1) throw std::runtime_error("flaky");
      return c;
    },
    parsl::AppOptions{.cache = true, .isolate = true});

TEST(Memoization, ArgumentsAreEncodedOncePerTaskAndResultBytesAreKeptAsReceived) {
  parsl::Config c = parsl::test::thread_config(1);
  c.retries = 2;
  parsl::DataFlowKernel dfk(std::move(c));
  g_encodes = 0;
  // The memo key and the isolated try share one encoding of the argument, and the memo table
  // keeps the result's bytes as the child sent them: one encoding in this process in all.
  EXPECT_EQ(isolated_flaky(Counted{7}).get().value, 7);
  EXPECT_EQ(g_encodes.load(), 1);
  g_encodes = 0;
  EXPECT_THROW(isolated_flaky(Counted{1}).get(), std::runtime_error);  // key + 3 tries
  EXPECT_EQ(g_encodes.load(), 1);
}

TEST(Memoization, EqualCallsHitTheMemoTable) {
  g_runs = 0;
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto a = costly("x", std::vector<int>{1, 2, 3});
  EXPECT_EQ(a.get(), "x:3");
  auto b = costly("x", std::vector<int>{1, 2, 3});
  EXPECT_EQ(b.get(), "x:3");
  EXPECT_EQ(b.state(), parsl::TaskState::memo_done);
  auto c = costly("x", std::vector<int>{1, 2});  // different arguments: runs
  EXPECT_EQ(c.get(), "x:2");
  EXPECT_EQ(g_runs.load(), 2);
  EXPECT_EQ(dfk.task_state_counts()[parsl::TaskState::memo_done], 1);
  EXPECT_EQ(dfk.memo_size(), 2u);
}

TEST(Memoization, KeysUseResolvedArguments) {
  g_runs = 0;
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_EQ(costly("y", std::vector<int>{1, 1}).get(), "y:2");
  auto via_future = costly("y", produce(2));  // same resolved bytes as the call above
  EXPECT_EQ(via_future.get(), "y:2");
  EXPECT_EQ(via_future.state(), parsl::TaskState::memo_done);
  EXPECT_EQ(g_runs.load(), 1);
}

TEST(Memoization, AppsWithoutCacheAlwaysRun) {
  g_runs = 0;
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  not_cached(1).get();
  not_cached(1).get();
  EXPECT_EQ(g_runs.load(), 2);
}

TEST(Memoization, ConfigSwitchTurnsItOff) {
  g_runs = 0;
  parsl::Config c = parsl::test::thread_config();
  c.app_cache = false;
  parsl::DataFlowKernel dfk(c);
  costly_v2(1).get();
  costly_v2(1).get();
  EXPECT_EQ(g_runs.load(), 2);
}

TEST(Memoization, FailedTasksAreNotMemoized) {
  std::atomic<int> runs{0};
  const auto fails_once = parsl::app(
      "memo_test.fails_once",
      [&runs](int x) {
        if (runs.fetch_add(1) == 0) throw std::runtime_error("first time");
        return x;
      },
      parsl::AppOptions{.cache = true});
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_THROW(fails_once(3).get(), std::runtime_error);
  EXPECT_EQ(fails_once(3).get(), 3);
  EXPECT_EQ(runs.load(), 2);
}

TEST(Memoization, IgnoredArgumentsAreLeftOutOfTheKey) {
  std::atomic<int> runs{0};
  const auto fit = parsl::app(
      "memo_test.fit",
      [&runs](int model, std::string /*log_dir: does not change the result*/) {
        runs.fetch_add(1);
        return model * 10;
      },
      parsl::AppOptions{.cache = true, .ignore_for_cache = {1}});
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_EQ(fit(3, "logs/a").get(), 30);
  auto again = fit(3, "logs/b");  // only the ignored argument differs
  EXPECT_EQ(again.get(), 30);
  EXPECT_EQ(again.state(), parsl::TaskState::memo_done);
  EXPECT_EQ(fit(4, "logs/a").get(), 40);
  EXPECT_EQ(runs.load(), 2);
}

TEST(Memoization, IgnoringAPositionThatDoesNotExistIsRejected) {
  {
    const auto bad = parsl::app("memo_test.bad_ignore", [](int x) { return x; },
                                parsl::AppOptions{.cache = true, .ignore_for_cache = {3}});
    try {
      parsl::AppRegistry::instance().check();
      FAIL();
    } catch (const parsl::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("leaves argument 3 out of its memo key, but it has only 1"),
                std::string::npos) << e.what();
    }
  }
  parsl::AppRegistry::instance().clear_problems();
}

TEST(Memoization, IgnoredArgumentsCanBeNamed) {
  std::atomic<int> runs{0};
  const auto fit = parsl::app(
      "memo_test.fit_named",
      [&runs](int model, std::string /*log_dir*/, int verbosity) {
        runs.fetch_add(1);
        return model * 10 + (verbosity > 100 ? 1 : 0);
      },
      parsl::AppOptions{.cache = true, .arg_names = {"model", "log_dir", "verbosity"},
                        .ignore_for_cache = {"log_dir"}});
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_EQ(fit(3, "logs/a", 1).get(), 30);
  auto again = fit(3, "logs/b", 1);  // only the named, ignored argument differs
  EXPECT_EQ(again.get(), 30);
  EXPECT_EQ(again.state(), parsl::TaskState::memo_done);
  auto louder = fit(3, "logs/a", 2);  // verbosity is part of the key
  EXPECT_EQ(louder.get(), 30);
  EXPECT_EQ(louder.state(), parsl::TaskState::exec_done);
  EXPECT_EQ(runs.load(), 2);
}

TEST(Memoization, BadIgnoreNamesAreRejectedWithTheApp) {
  const auto expect_problem = [](const std::string& text) {
    try {
      parsl::AppRegistry::instance().check();
      ADD_FAILURE() << "no problem reported; expected: " << text;
    } catch (const parsl::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
    parsl::AppRegistry::instance().clear_problems();
  };
  {
    const auto bad = parsl::app("memo_test.unknown_name", [](int x, int y) { return x + y; },
                                parsl::AppOptions{.cache = true, .arg_names = {"x", "y"}, .ignore_for_cache = {"z"}});
    expect_problem("app 'memo_test.unknown_name' leaves argument 'z' out of its memo key, but its arg_names do not hold that name");
  }
  {
    const auto bad = parsl::app("memo_test.no_names", [](int x) { return x; },
                                parsl::AppOptions{.cache = true, .ignore_for_cache = {"x"}});
    expect_problem("gives no arg_names to find it in");
  }
  {
    const auto bad = parsl::app("memo_test.too_many_names", [](int x) { return x; },
                                parsl::AppOptions{.cache = true, .arg_names = {"x", "y"}});
    expect_problem("app 'memo_test.too_many_names' names 2 parameters in arg_names, but it has 1");
  }
}

TEST(Memoization, KeyIsAStorableContentHash) {
  // The memo key covers name, version and argument bytes; it is a 128-bit value that a
  // checkpoint can store. Two kernels in sequence start with empty tables (no checkpoint yet).
  g_runs = 0;
  {
    parsl::DataFlowKernel dfk(parsl::test::thread_config());
    costly_v2(5).get();
  }
  {
    parsl::DataFlowKernel dfk(parsl::test::thread_config());
    EXPECT_EQ(dfk.memo_size(), 0u);
    costly_v2(5).get();
  }
  EXPECT_EQ(g_runs.load(), 2);
}

}  // namespace
