#include <gtest/gtest.h>

#include "test_support.hpp"

namespace {

const auto hello = parsl::app("registry_test.hello", [](int x) { return x + 1; });

TEST(AppRegistry, AppsAreFoundByNameAndRunFromBytes) {
  auto def = parsl::AppRegistry::instance().find("registry_test.hello");
  ASSERT_NE(def, nullptr);
  EXPECT_TRUE(def->serializable);
  // What a worker process does with a task message: decode, run, encode.
  const std::string result = def->invoke_encoded(parsl::serial::encode(std::tuple<int>{41}));
  EXPECT_EQ(parsl::serial::decode<int>(result), 42);
  EXPECT_THROW(def->invoke_encoded("x"), parsl::SerializationError);
}

TEST(AppRegistry, DuplicateNameIsAClearErrorAtStartup) {
  {
    const auto again = parsl::app("registry_test.hello", [](int x) { return x; });
    try {
      parsl::DataFlowKernel dfk(parsl::test::thread_config());
      FAIL() << "the kernel must refuse to start";
    } catch (const parsl::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("'registry_test.hello' is declared more than once"), std::string::npos)
          << e.what();
    }
    // The first declaration is intact.
    auto def = parsl::AppRegistry::instance().find("registry_test.hello");
    EXPECT_EQ(parsl::serial::decode<int>(def->invoke_encoded(parsl::serial::encode(std::tuple<int>{1}))), 2);
  }
  parsl::AppRegistry::instance().clear_problems();
}

TEST(AppRegistry, CachingAnUnserializableAppIsRejected) {
  struct Opaque {
    int* p = nullptr;
  };
  {
    const auto bad = parsl::app("registry_test.opaque", [](Opaque o) { return o.p != nullptr; },
                                parsl::AppOptions{.cache = true});
    EXPECT_THROW(parsl::AppRegistry::instance().check(), parsl::ConfigError);
  }
  parsl::AppRegistry::instance().clear_problems();
}

TEST(AppRegistry, LocalAppsLeaveTheRegistry) {
  {
    const auto local = parsl::app("registry_test.local", [](int x) { return x; });
    EXPECT_NE(parsl::AppRegistry::instance().find("registry_test.local"), nullptr);
  }
  EXPECT_EQ(parsl::AppRegistry::instance().find("registry_test.local"), nullptr);
}

TEST(AppRegistry, UnserializableAppsStillRunInProcess) {
  struct Opaque {
    int* p = nullptr;
  };
  int target = 5;
  const auto deref = parsl::app("registry_test.deref", [](Opaque o) { return *o.p; });
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_EQ(deref(Opaque{&target}).get(), 5);
  EXPECT_FALSE(parsl::AppRegistry::instance().find("registry_test.deref")->serializable);
}

}  // namespace
