#include <gtest/gtest.h>

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

}  // namespace
