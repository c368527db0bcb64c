#pragma once
// Reading a monitoring database in tests: rows as text ("NULL" for NULL), and a task's
// states in time order, checking that its timestamps never go back.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parsl::test {

using Rows = std::vector<std::vector<std::string>>;

inline Rows query(const std::string& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  Rows rows;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const auto* t = sqlite3_column_text(st, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      rows.push_back(std::move(row));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

inline std::vector<std::string> states_of(const std::string& file, std::uint64_t id) {
  std::vector<std::string> out;
  std::string last;
  for (const auto& r : query(file, "SELECT task_status_name, timestamp FROM status WHERE task_id = " +
                                       std::to_string(id) + " ORDER BY timestamp, try_id")) {
    EXPECT_LE(last, r[1]) << "timestamps go back for task " << id;
    last = r[1];
    out.push_back(r[0]);
  }
  return out;
}

}  // namespace parsl::test
