// The protocol classes, driven by hand: no MPI.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <cstdlib>
#include <new>
#include <random>
#include <stdexcept>
#include <thread>

#include "parsl/mpi_exec/dispatcher.hpp"
#include "parsl/mpi_exec/mpi_executor.hpp"
#include "parsl/runtime/config.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/mpi_exec/worker_core.hpp"
#include "parsl/runtime/app.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"

// Counts the bytes this program allocates, so that a test can bound what decoding costs.
namespace {
std::atomic<std::size_t> g_allocated{0};
}  // namespace
void* operator new(std::size_t n) {
  g_allocated.fetch_add(n, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// GCC cannot see that the operator new above allocates with malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

using namespace parsl::mpi;

TaskMsg task(std::uint64_t id, int priority = 0) { return TaskMsg{id, 1, priority, "app", "args"}; }

std::vector<std::uint64_t> ids(const DownMsg& m) {
  std::vector<std::uint64_t> out;
  for (const auto& t : m.tasks) out.push_back(t.id);
  return out;
}

TEST(Dispatcher, SendsNothingWithoutCredit) {
  Dispatcher d({2, 3});
  d.push_task(task(1));
  EXPECT_TRUE(d.dispatch().empty());
  EXPECT_EQ(d.queued(), 1u);
}

TEST(Dispatcher, BatchesUpToCreditInPriorityOrderFifoAmongEquals) {
  Dispatcher d({2});
  d.on_up(2, UpMsg{.credit = 4});
  d.push_tasks({task(1, 5), task(2, 0), task(3, 5), task(4, -1), task(5, 0), task(6, 9)});
  auto out = d.dispatch();
  ASSERT_EQ(out.size(), 1u);  // one message, not one per task
  EXPECT_EQ(out[0].first, 2);
  EXPECT_EQ(ids(out[0].second), (std::vector<std::uint64_t>{4, 2, 5, 1}));
  EXPECT_TRUE(d.dispatch().empty());  // credit used up
  EXPECT_EQ(d.queued(), 2u);
}

TEST(Dispatcher, SpreadsWorkOverChildren) {
  Dispatcher d({2, 3});
  d.on_up(2, UpMsg{.credit = 10});
  d.on_up(3, UpMsg{.credit = 10});
  for (std::uint64_t i = 1; i <= 8; ++i) d.push_task(task(i));
  auto out = d.dispatch();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].second.tasks.size(), 4u);
  EXPECT_EQ(out[1].second.tasks.size(), 4u);
}

TEST(Dispatcher, WhatChildrenWithLittleCreditCannotTakeGoesToThoseWithMoreInTheSameRound) {
  // A sub-master with credit 16 beside three workers with credit 1 each: all 19 tasks go
  // down at once. (A fair share fixed before looking at credit sent 5 + 1 + 1 + 1 and kept
  // 11 queued until the next credit came, a whole task length later.)
  Dispatcher d({2, 3, 4, 5});
  d.on_up(2, UpMsg{.credit = 16});
  for (int c : {3, 4, 5}) d.on_up(c, UpMsg{.credit = 1});
  for (std::uint64_t i = 1; i <= 19; ++i) d.push_task(task(i));
  std::map<int, std::size_t> got;
  for (auto& [child, m] : d.dispatch()) got[child] += m.tasks.size();
  EXPECT_EQ(d.queued(), 0u);
  EXPECT_EQ(got, (std::map<int, std::size_t>{{2, 16}, {3, 1}, {4, 1}, {5, 1}}));
  // Still even when there is less than credit: 6 tasks over credit 16, 1, 1, 1.
  Dispatcher e({2, 3, 4, 5});
  e.on_up(2, UpMsg{.credit = 16});
  for (int c : {3, 4, 5}) e.on_up(c, UpMsg{.credit = 1});
  for (std::uint64_t i = 1; i <= 6; ++i) e.push_task(task(i));
  got.clear();
  for (auto& [child, m] : e.dispatch()) got[child] += m.tasks.size();
  EXPECT_EQ(got, (std::map<int, std::size_t>{{2, 3}, {3, 1}, {4, 1}, {5, 1}}));
}

TEST(Dispatcher, ChildrensCreditGoesUpAndEventsAreForwarded) {
  Dispatcher d({2});
  UpMsg m;
  m.credit = 2;
  m.events.push_back(Event{7, 1, EventKind::started, 2, {}});
  m.events.push_back(Event{7, 1, EventKind::succeeded, 2, "x"});
  m.events.push_back(Event{8, 1, EventKind::failed, 2, "y"});
  d.on_up(2, std::move(m));
  EXPECT_EQ(d.take_credit(), 2);  // what the child can take, the parent may send
  EXPECT_EQ(d.take_events().size(), 3u);
  EXPECT_EQ(d.take_credit(), 0);
}

TEST(Dispatcher, StrangersAndLateMessagesAreProtocolErrors) {
  Dispatcher d({2});
  EXPECT_THROW(d.on_up(5, UpMsg{.credit = 1}), ProtocolError);
  d.on_up(2, UpMsg{.bye = true});
  EXPECT_EQ(d.finished_children(), 1u);
  EXPECT_THROW(d.on_up(2, UpMsg{.credit = 1}), ProtocolError);
}

TEST(WorkerCore, RunsBestPriorityFirstAndReportsResultsAndErrors) {
  std::vector<std::uint64_t> order;
  WorkerCore w(4, 2, 2, [&](const TaskMsg& t) -> std::string {
    order.push_back(t.id);
    if (t.id == 2) throw std::invalid_argument("bad input 2");
    return "ok" + std::to_string(t.id);
  });
  UpMsg hello = w.take_up();
  EXPECT_EQ(hello.credit, 3);
  DownMsg down;
  down.tasks = {task(1, 1), task(2, 0), task(3, 1)};
  w.on_down(std::move(down));
  while (w.has_work()) w.run_one();
  EXPECT_EQ(order, (std::vector<std::uint64_t>{2, 1, 3}));
  UpMsg up = w.take_up();
  EXPECT_EQ(up.credit, 3);  // all three done: room for 1 + prefetch again
  EXPECT_EQ(w.take_up().credit, 0);  // and no more until tasks arrive and finish
  // A task that finished before the worker wrote up is reported by its outcome alone.
  ASSERT_EQ(up.events.size(), 3u);
  const Event& failed = up.events[0];
  EXPECT_EQ(failed.kind, EventKind::failed);
  auto err = parsl::serial::decode<parsl::serial::RemoteError>(failed.payload);
  EXPECT_EQ(err.type_name, "std::invalid_argument");
  EXPECT_EQ(err.message, "bad input 2");
  EXPECT_EQ(err.rank, 4);
  EXPECT_EQ(up.events[1].payload, "ok1");
}

DownMsg tasks_down(std::uint64_t first, std::int64_t n) {
  DownMsg d;
  for (std::int64_t i = 0; i < n; ++i) d.tasks.push_back(task(first + static_cast<std::uint64_t>(i)));
  return d;
}

TEST(WorkerCore, ShortTasksRaiseThePrefetchLongOnesDoNot) {
  WorkerCore fast(1, 1, 64, [](const TaskMsg&) { return std::string(); });
  EXPECT_EQ(fast.take_up().credit, 2);
  fast.on_down(tasks_down(1, 2));
  while (fast.has_work()) fast.run_one();
  EXPECT_EQ(fast.prefetch(), 64);            // no-op tasks: the most it may hold
  EXPECT_EQ(fast.take_up().credit, 1 + 64);  // so it asks for a full queue at once
  fast.on_down(tasks_down(3, 5));            // the parent sends only some of that
  while (fast.has_work()) fast.run_one();
  EXPECT_EQ(fast.take_up().credit, 5);       // it asks again for just what it used

  WorkerCore slow(1, 1, 64, [](const TaskMsg&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    return std::string();
  });
  EXPECT_EQ(slow.take_up().credit, 2);
  slow.on_down(tasks_down(1, 2));
  while (slow.has_work()) slow.run_one();
  EXPECT_EQ(slow.prefetch(), 1);  // 3 ms tasks: stay at the minimum
  EXPECT_EQ(slow.take_up().credit, 2);
}

const auto twice = parsl::app("protocol_test.twice", [](int x) { return 2 * x; });

TEST(WorkerCore, RegisteredRunnerFindsAppsByNameAndNamesUnknownOnes) {
  TaskMsg t{1, 1, 0, "protocol_test.twice", parsl::serial::encode(std::tuple<int>{21})};
  const parsl::EncodedOutcome ok = WorkerCore::run_registered(t);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(parsl::serial::decode<int>(ok.bytes()), 42);
  t.app = "no.such.app";
  const parsl::EncodedOutcome missing = WorkerCore::run_registered(t, nullptr, 3);
  ASSERT_FALSE(missing.ok());
  try {
    std::rethrow_exception(missing.error());
  } catch (const parsl::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'no.such.app' is not registered"), std::string::npos);
  }
}

TEST(Protocol, MessagesRoundTrip) {
  DownMsg d;
  d.tasks = {task(1, 3), task(2)};
  d.control = Control::shutdown;
  DownMsg back = decode_down(encode(d), 0);
  EXPECT_EQ(ids(back), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(back.tasks[0].priority, 3);
  EXPECT_EQ(back.control, Control::shutdown);
  UpMsg u;
  u.credit = 5;
  u.events.push_back(Event{9, 2, EventKind::succeeded, 3, "value"});
  u.notes.push_back("hello");
  UpMsg ub = decode_up(encode(u), 3);
  EXPECT_EQ(ub.credit, 5);
  EXPECT_EQ(ub.events[0].payload, "value");
  EXPECT_EQ(ub.notes[0], "hello");
}

TEST(Protocol, MalformedAndTruncatedMessagesAreClearErrors) {
  DownMsg d;
  d.tasks = {task(1), task(2)};
  const std::string bytes = encode(d);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    try {
      (void)decode_down(std::string_view(bytes).substr(0, n), 6);
      FAIL() << n;
    } catch (const ProtocolError& e) {
      EXPECT_NE(std::string(e.what()).find("from rank 6"), std::string::npos) << e.what();
    }
  }
  std::string bad = bytes;
  bad.back() = 9;  // control code 9 does not exist
  EXPECT_THROW((void)decode_down(bad, 1), ProtocolError);
  EXPECT_THROW((void)decode_up("garbage", 1), ProtocolError);
  UpMsg negative;
  negative.credit = -4;
  EXPECT_THROW((void)decode_up(encode(negative), 2), ProtocolError);
  DownMsg no_app;
  no_app.tasks = {TaskMsg{1, 1, 0, "", ""}};
  EXPECT_THROW((void)decode_down(encode(no_app), 0), ProtocolError);
}

// A malformed message of N bytes may cost its decoder little more than N bytes of memory,
// whatever its length fields claim (the decoder once resized to the claimed task count: ~142 N).
TEST(Protocol, DecodingMalformedMessagesAllocatesInProportionToTheirSize) {
  DownMsg d;
  for (int i = 0; i < 4; ++i) d.tasks.push_back(task(static_cast<std::uint64_t>(i)));
  const std::string good = encode(d);
  UpMsg u;
  u.events.push_back(Event{9, 2, EventKind::succeeded, 3, "value"});
  u.notes = {"a", "b"};
  const std::string good_up = encode(u);
  std::mt19937_64 rng(42);
  std::size_t worst_ratio_x100 = 0;
  auto measure = [&](const std::string& bytes, bool down) {
    const std::size_t before = g_allocated.load();
    try {
      if (down)
        (void)decode_down(bytes, 1);
      else
        (void)decode_up(bytes, 1);
    } catch (const ProtocolError&) {
    }
    const std::size_t used = g_allocated.load() - before;
    // The error message itself is a few hundred bytes whatever the input.
    const std::size_t allowed = 16 * bytes.size() + 4096;
    EXPECT_LE(used, allowed) << bytes.size() << "-byte message";
    worst_ratio_x100 = std::max(worst_ratio_x100, 100 * used / (bytes.size() + 1));
  };
  for (int i = 0; i < 3000; ++i) {
    const bool down = i % 2 == 0;
    std::string m = down ? good : good_up;
    // Mostly length fields: overwrite one aligned 8-byte word with a large count.
    const std::size_t at = (rng() % (m.size() / 8)) * 8;
    const std::uint64_t claim = i % 3 == 0 ? m.size() : i % 3 == 1 ? (rng() % (1u << 20)) : rng();
    std::memcpy(m.data() + at, &claim, sizeof claim);
    if (i % 5 == 0) m[rng() % m.size()] = static_cast<char>(rng());
    measure(m, down);
  }
  // The classic: a huge task count followed by little.
  std::string lying(16, '\0');
  const std::uint64_t count = 8;
  std::memcpy(lying.data(), &count, sizeof count);
  measure(lying, true);
  RecordProperty("worst_bytes_allocated_per_input_byte_x100", static_cast<int>(worst_ratio_x100));
}

TEST(Protocol, AWalltimeThatIsNotAFiniteNumberOfSecondsIsMalformed) {
  for (double bad : {-1.0, 1e10, std::numeric_limits<double>::infinity(), std::nan("")}) {
    DownMsg d;
    d.tasks = {task(1)};
    d.tasks[0].walltime = bad;
    EXPECT_THROW((void)decode_down(encode(d), 3), ProtocolError) << bad;
  }
  DownMsg ok;
  ok.tasks = {task(1)};
  ok.tasks[0].walltime = 2.5;
  EXPECT_EQ(decode_down(encode(ok), 3).tasks[0].walltime, 2.5);
}

TEST(Protocol, ABoolOtherThanZeroOrOneIsMalformed) {
  UpMsg u;
  u.bye = true;
  std::string bytes = encode(u);
  // credit (8 bytes), events' count (8), then bye.
  ASSERT_EQ(bytes[16], 1);
  bytes[16] = 2;
  try {
    (void)decode_up(bytes, 4);
    FAIL() << "a bool of 2 was accepted";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("not 0 or 1"), std::string::npos) << e.what();
  }
}

}  // namespace

namespace {
TEST(MpiOptions, EmulateTakesNodesByWorkersAndNamesABadValue) {
  parsl::Config c;
  c.mpi_options["emulate"] = "8192x32";
  const auto o = parsl::MpiOptions::from_config(c);
  EXPECT_EQ(o.emulate_nodes, 8192);
  EXPECT_EQ(o.emulate_workers, 32);
  for (const char* bad : {"8192", "x32", "0x32", "8192x0", "8192x", "axb", "8192x32x1", "99999999x32", "-1x4"}) {
    c.mpi_options["emulate"] = bad;
    try {
      (void)parsl::MpiOptions::from_config(c);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const parsl::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--parsl-mpi-emulate"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}
}  // namespace

namespace {
TEST(Protocol, StartupLinesCountedBelowAddUpAndANegativeCountIsRefused) {
  parsl::mpi::Dispatcher d({2, 3});
  parsl::mpi::UpMsg a;
  a.notes_dropped = 40;
  d.on_up(2, parsl::mpi::decode_up(parsl::mpi::encode(a), 2));
  parsl::mpi::UpMsg b;
  b.notes_dropped = 2;
  d.on_up(3, parsl::mpi::decode_up(parsl::mpi::encode(b), 3));
  EXPECT_EQ(d.notes_dropped(), 42);
  parsl::mpi::UpMsg bad;
  bad.notes_dropped = -1;
  EXPECT_THROW((void)parsl::mpi::decode_up(parsl::mpi::encode(bad), 2), parsl::mpi::ProtocolError);
}
}  // namespace
