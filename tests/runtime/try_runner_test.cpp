// The one try runner for encoded arguments (run_encoded_try) and its outcome type: the same
// bytes whether the try runs in this process or in an isolated child, failures that keep
// their type, and staging failures in the outcome rather than thrown.
#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>

#include "parsl/runtime.hpp"
#include "parsl/runtime/app_registry.hpp"
#include "parsl/runtime/isolation.hpp"
#include "parsl/runtime/try_runner.hpp"
#include "parsl/serial/codec.hpp"

namespace {

const auto scale = parsl::app("try_runner_test.scale", [](std::vector<double> v, double k) {
  for (double& x : v) x *= k;
  return v;
});
const auto refuse = parsl::app("try_runner_test.refuse", [](int x) -> int {
  throw std::invalid_argument("no " + std::to_string(x));
});
const auto crash = parsl::app("try_runner_test.crash", [](int) -> int {
  std::raise(SIGSEGV);
  return 0;
});

const parsl::AppDef& def(const char* name) { return *parsl::AppRegistry::instance().find(name); }

TEST(TryRunner, InProcessAndIsolatedTriesGiveTheSameBytes) {
  const std::string args = parsl::serial::encode(std::tuple<std::vector<double>, double>{{1.5, -2.0, 4.25}, 2.0});
  const parsl::TaskContext ctx{7, 1};
  const parsl::EncodedOutcome here = parsl::run_encoded_try(def("try_runner_test.scale"), args, ctx, {}, {}, false);
  const parsl::EncodedOutcome child = parsl::run_encoded_try(def("try_runner_test.scale"), args, ctx, {}, {}, true);
  ASSERT_TRUE(here.ok());
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(here.bytes(), child.bytes());
  EXPECT_EQ(parsl::serial::decode<std::vector<double>>(here.bytes()), (std::vector<double>{3.0, -4.0, 8.5}));
}

TEST(TryRunner, FailuresKeepTheirTypeWhereverTheTryRan) {
  const std::string args = parsl::serial::encode(std::tuple<int>{4});
  for (bool isolate : {false, true}) {
    const parsl::EncodedOutcome out =
        parsl::run_encoded_try(def("try_runner_test.refuse"), args, parsl::TaskContext{1, 1}, {}, {}, isolate, 5);
    ASSERT_FALSE(out.ok());
    try {
      std::rethrow_exception(out.error());
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "no 4");
    } catch (...) {
      ADD_FAILURE() << "the failure lost its type (isolate = " << isolate << ")";
    }
  }
  const parsl::EncodedOutcome died =
      parsl::run_encoded_try(def("try_runner_test.crash"), args, parsl::TaskContext{2, 1}, {}, {}, true);
  ASSERT_FALSE(died.ok());
  EXPECT_THROW(std::rethrow_exception(died.error()), parsl::WorkerLost);
}

TEST(TryRunner, StagingAndDecodingFailuresAreOutcomesNotExceptions) {
  const std::string args = parsl::serial::encode(std::tuple<int>{1});
  const parsl::EncodedOutcome no_server = parsl::run_encoded_try(
      def("try_runner_test.refuse"), args, parsl::TaskContext{3, 1}, {parsl::File("http://127.0.0.1:1/nothing")}, {},
      false);
  ASSERT_FALSE(no_server.ok());
  EXPECT_THROW(std::rethrow_exception(no_server.error()), parsl::StagingError);
  const parsl::EncodedOutcome garbage =
      parsl::invoke_encoded_try(def("try_runner_test.scale"), std::string_view("\x01\x02", 2));
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error(), nullptr);
  const parsl::EncodedOutcome unreadable = parsl::EncodedOutcome::encoded_failure("not a report");
  EXPECT_THROW(std::rethrow_exception(unreadable.error()), parsl::Error);
}

}  // namespace
