#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "campaign.hpp"

namespace {

using parsl::campaign::CampaignError;
using parsl::campaign::Format;
using parsl::campaign::parse;

parsl::campaign::Campaign from(const std::string& text, Format f) {
  std::istringstream in(text);
  return parse(in, "tasks", f);
}

std::string error_of(const std::string& text, Format f) {
  try {
    from(text, f);
  } catch (const CampaignError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Campaign, TextFilesAreOneCommandPerLine) {
  auto c = from("echo a\n\n# a comment\n  echo b  \r\n", Format::text);
  ASSERT_EQ(c.tasks.size(), 2u);
  EXPECT_EQ(c.tasks[0].command, "echo a");
  EXPECT_EQ(c.tasks[0].id, "1");
  EXPECT_EQ(c.tasks[1].command, "echo b  ");
  EXPECT_EQ(c.tasks[1].line, 4);
  for (const auto& t : c.tasks) {  // a text line asks for nothing
    EXPECT_FALSE(t.ranks);
    EXPECT_FALSE(t.cores);
    EXPECT_FALSE(t.retries);
  }
}

TEST(Campaign, ResourceRequestsPerTask) {
  auto c = from(R"({"id": "sim", "command": "$PARSL_MPI_PREFIX ./sim", "ranks": 8, "cores": 4, "gpus": 1}
{"id": "post", "command": "./post", "depends": ["sim"]}
)",
                Format::json_lines);
  EXPECT_EQ(c.tasks[0].ranks, 8);
  EXPECT_EQ(c.tasks[0].cores, 4);
  EXPECT_EQ(c.tasks[0].gpus, 1);
  EXPECT_FALSE(c.tasks[1].ranks);
  EXPECT_NE(error_of(R"({"id": "a", "command": "x", "ranks": 0})", Format::json_lines)
                .find("tasks:1: \"ranks\" must be a whole number from 1"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id": "a", "command": "x", "cores": "four"})", Format::json_lines)
                .find("\"cores\" must be a whole number"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id": "a", "command": "x", "gpus": -1})", Format::json_lines).find("\"gpus\""),
            std::string::npos);
}

TEST(Campaign, JsonLinesWithDependenciesComeInDependencyOrder) {
  auto c = from(R"({"id": "reduce", "command": "cat a b", "depends": ["a", "b"], "retries": 2, "walltime": 1.5}
{"id": "a", "command": "echo a > a"}
{"id": "b", "command": "echo b > b", "outputs": ["b"]}
)",
                Format::json_lines);
  ASSERT_EQ(c.tasks.size(), 3u);
  EXPECT_EQ(c.tasks[0].retries, 2);
  EXPECT_DOUBLE_EQ(*c.tasks[0].walltime, 1.5);
  EXPECT_EQ(c.tasks[2].outputs, std::vector<std::string>{"b"});
  EXPECT_EQ(c.order.back(), 0u);  // the reduction last
  EXPECT_EQ(c.depends[0], (std::vector<std::size_t>{1, 2}));
}

TEST(Campaign, EveryProblemIsReportedWithItsLine) {
  const std::string e = error_of(R"({"id": "a", "command": "echo a"}
{"id": "b", "command": "echo b", "depend": ["a"]}
{"id": "a", "command": "echo again"}
{"id": "d", "command": "", "retries": -1}
{"id": "e", "command": "echo e", "depends": ["zzz"]}
not json
{"command": 5}
[1, 2]
)",
                                 Format::json_lines);
  EXPECT_NE(e.find("no task was run"), std::string::npos) << e;
  EXPECT_NE(e.find("tasks:2: unknown key \"depend\""), std::string::npos) << e;
  EXPECT_NE(e.find("tasks:3: duplicate id \"a\" (first on line 1)"), std::string::npos) << e;
  EXPECT_NE(e.find("tasks:4: \"command\" must be a non-empty string"), std::string::npos) << e;
  EXPECT_NE(e.find("tasks:4: \"retries\" must be a whole number"), std::string::npos) << e;
  EXPECT_NE(e.find("tasks:5: depends on unknown id \"zzz\""), std::string::npos) << e;
  EXPECT_NE(e.find("tasks:6: malformed JSON"), std::string::npos) << e;
  EXPECT_NE(e.find("tasks:7: \"command\" must be a non-empty string, got 5"), std::string::npos) << e;
  EXPECT_NE(e.find("tasks:8: expected a JSON object"), std::string::npos) << e;
  EXPECT_LT(e.find("tasks:2:"), e.find("tasks:8:"));  // in line order
}

TEST(Campaign, FileUrlsAreCheckedToo) {
  const std::string e = error_of(R"({"id": "a", "command": "x", "inputs": ["https://ok/x.csv", "gopher://old/x"]})",
                                 Format::json_lines);
  EXPECT_NE(e.find("tasks:1: \"inputs\": parsl::File 'gopher://old/x': unknown scheme"), std::string::npos) << e;
}

TEST(Campaign, CyclesAreNamed) {
  const std::string e = error_of(R"({"id": "x", "command": "a", "depends": ["z"]}
{"id": "y", "command": "b", "depends": ["x"]}
{"id": "z", "command": "c", "depends": ["y"]}
{"id": "free", "command": "d"}
)",
                                 Format::json_lines);
  EXPECT_NE(e.find("dependency cycle"), std::string::npos) << e;
  for (const char* id : {"\"x\"", "\"y\"", "\"z\""}) EXPECT_NE(e.find(id), std::string::npos) << e;
  EXPECT_EQ(e.find("\"free\""), std::string::npos) << e;
  EXPECT_NE(error_of(R"({"id": "s", "command": "a", "depends": ["s"]})", Format::json_lines).find("depends on itself"),
            std::string::npos);
}

TEST(Campaign, EmptyFilesAndFormats) {
  EXPECT_NE(error_of("\n# nothing\n", Format::text).find("no tasks"), std::string::npos);
  EXPECT_EQ(parsl::campaign::format_of("x.jsonl"), Format::json_lines);
  EXPECT_EQ(parsl::campaign::format_of("x.txt"), Format::text);
}

std::string error_with(const std::string& text, Format f, const parsl::campaign::Limits& limits) {
  std::istringstream in(text);
  try {
    parse(in, "tasks", f, limits);
  } catch (const CampaignError& e) {
    return e.what();
  }
  return "no error";
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Campaign, DeepJsonIsAClearErrorWithItsLineNotACrash) {
  const std::string deep = "{\"id\": \"a\", \"command\": \"true\", \"x\": " + std::string(50000, '[') +
                           std::string(50000, ']') + "}\n";
  const std::string e = error_of("{\"command\": \"true\"}\n" + deep, Format::json_lines);
  EXPECT_TRUE(has(e, "tasks:2: JSON nested deeper than 32 levels")) << e.substr(0, 500);
  EXPECT_LT(e.size(), 1000u);
  // Inside a string, brackets are text, not nesting.
  EXPECT_NO_THROW(from("{\"command\": \"echo " + std::string(100, '[') + "\"}\n", Format::json_lines));
}

TEST(Campaign, NumbersBeyondADoubleAndOutOfRangeWalltimesAreErrors) {
  const std::string e = error_of(R"({"id": "a", "command": "true", "walltime": 1e400}
{"id": "b", "command": "true", "walltime": 1e10}
{"id": "c", "command": "true", "walltime": 0}
{"id": "d", "command": "true", "walltime": "10"}
{"id": "e", "command": "true", "retries": 1e400}
{"id": "f", "command": "true", "walltime": 31622400}
)",
                                 Format::json_lines);
  EXPECT_TRUE(has(e, "tasks:1: a JSON value out of range: number overflow parsing '1e400'")) << e;
  EXPECT_TRUE(has(e, "tasks:2: \"walltime\" must be a number of seconds > 0 and at most 31622400")) << e;
  EXPECT_TRUE(has(e, "tasks:3: \"walltime\"")) << e;
  EXPECT_TRUE(has(e, "tasks:4: \"walltime\"")) << e;
  EXPECT_TRUE(has(e, "tasks:5: a JSON value out of range")) << e;
  EXPECT_FALSE(has(e, "tasks:6:")) << e;  // exactly a year is allowed
}

TEST(Campaign, DuplicateKeysAreErrorsNotLastOneWins) {
  const std::string e = error_of(R"({"id": "a", "command": "rm -rf /tmp/x", "command": "true"}
{"id": "b", "command": "true", "depends": [], "inner": {"k": 1, "k": 2}}
)",
                                 Format::json_lines);
  EXPECT_TRUE(has(e, "tasks:1: the key \"command\" appears twice")) << e;
  EXPECT_TRUE(has(e, "tasks:2: the key \"k\" appears twice")) << e;
  // The same key in two different objects is fine.
  EXPECT_NO_THROW(from("{\"id\": \"a\", \"command\": \"x\"}\n{\"id\": \"b\", \"command\": \"x\"}\n", Format::json_lines));
}

TEST(Campaign, BinaryDataInTextFilesIsRefusedWithItsLine) {
  const std::string e = error_of(std::string("echo ok\necho a\0b\n\x01\x02garbage\necho \xff\xfe\n# \x1b[31m\n", 38),
                                 Format::text);
  EXPECT_TRUE(has(e, "tasks:2: the line holds a NUL byte at column 7")) << e;
  EXPECT_TRUE(has(e, "tasks:3: the line holds the control character \\x01 at column 1")) << e;
  EXPECT_TRUE(has(e, "tasks:4: the line holds bytes that are not UTF-8 text (\\xff at column 6)")) << e;
  EXPECT_TRUE(has(e, "tasks:5: the line holds the control character \\x1b")) << e;
  // UTF-8 text and tabs are commands like any other.
  EXPECT_NO_THROW(from("echo 'Grüße, 世界'\techo\n", Format::text));
  // A NUL escaped in JSON cannot reach a command either (it would cut the command short).
  EXPECT_TRUE(has(error_of("{\"command\": \"rm -rf /tmp/a\\u0000b\"}\n", Format::json_lines),
                  "\"command\" holds a NUL character"));
}

TEST(Campaign, CommandsLongerThanTheSystemCanStartAreRefusedAtParseTime) {
  const std::size_t limit = parsl::campaign::max_command_bytes();
  EXPECT_GE(limit, 4095u);
  const std::string too_long(limit + 1, 'x'), fits(limit, 'y');
  const std::string e = error_of("echo a\n" + too_long + "\n", Format::text);
  EXPECT_TRUE(has(e, "tasks:2: the command is " + std::to_string(limit + 1) + " bytes, longer than the system can start"))
      << e.substr(0, 300);
  EXPECT_LT(e.size(), 1000u);
  EXPECT_NO_THROW(from(fits + "\n", Format::text));
  const std::string je = error_of("{\"command\": \"" + too_long + "\"}\n", Format::json_lines);
  EXPECT_TRUE(has(je, "tasks:1: \"command\" is " + std::to_string(limit + 1) + " bytes")) << je.substr(0, 300);
}

// An endless source must end: /dev/urandom, /dev/zero and a pipe of valid lines each stop
// with a clear error, in memory bounded by the limits, not by the source.
TEST(Campaign, EndlessOrHugeSourcesEndWithAClearError) {
  for (const char* dev : {"/dev/urandom", "/dev/zero"}) {
    std::ifstream in(dev, std::ios::binary);
    ASSERT_TRUE(in) << dev;
    for (Format f : {Format::text, Format::json_lines}) {
      try {
        parse(in, dev, f);
        ADD_FAILURE() << dev << " was accepted";
      } catch (const CampaignError& e) {
        // Ended by a bound, not by the source (which never ends): every message says where.
        EXPECT_TRUE(has(e.what(), "reading stopped at line ")) << e.what();
        EXPECT_LT(std::string(e.what()).size(), 8000u) << e.what();
      }
    }
  }
  parsl::campaign::Limits few;
  few.max_tasks = 1000;
  std::string many;
  for (int i = 0; i < 1500; ++i) many += "echo " + std::to_string(i) + "\n";
  const std::string e = error_with(many, Format::text, few);
  EXPECT_TRUE(has(e, "tasks:1001: more than 1000 tasks in one file")) << e;
  parsl::campaign::Limits short_lines;
  short_lines.max_line_bytes = 100;
  EXPECT_TRUE(has(error_with("echo a\n" + std::string(1000, 'z') + "\n", Format::text, short_lines),
                  "tasks:2: a line longer than 100 bytes"));
}

TEST(Campaign, ErrorMessagesQuoteOnlyAnExcerpt) {
  const std::string huge_id(200000, 'i');
  const std::string e = error_of("{\"id\": \"" + huge_id + "\", \"command\": \"true\"}\n{\"id\": \"" + huge_id +
                                     "\", \"command\": \"true\", \"depends\": [\"" + std::string(100000, 'd') +
                                     "\"], \"" + std::string(100000, 'k') + "\": 1}\n",
                                 Format::json_lines);
  EXPECT_TRUE(has(e, "bytes in all")) << e.substr(0, 400);
  EXPECT_LT(e.size(), 2000u) << e.substr(0, 400);
  // A long cycle: the first links and the last, not all of them.
  std::string cycle;
  for (int i = 0; i < 5000; ++i)
    cycle += "{\"id\": \"t" + std::to_string(i) + "\", \"command\": \"true\", \"depends\": [\"t" +
             std::to_string((i + 1) % 5000) + "\"]}\n";
  const std::string ce = error_of(cycle, Format::json_lines);
  EXPECT_TRUE(has(ce, "dependency cycle")) << ce.substr(0, 400);
  EXPECT_TRUE(has(ce, "(4993 more)")) << ce;
  EXPECT_LT(ce.size(), 1000u);
}

}  // namespace
