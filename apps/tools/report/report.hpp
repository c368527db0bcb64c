#pragma once
// parsl-report's outputs: a self-contained HTML page and a terminal summary of one run.
#include <ostream>
#include <string>

#include "report_data.hpp"

namespace parsl::report {

/// The page, with `chartjs` (Chart.js's script text) copied into it.
void write_html(const Run& run, std::ostream& out, const std::string& chartjs);
/// The summary for a terminal: the run, tasks per app and state, workers, the slowest tries
/// and the failed tasks.
void write_text(const Run& run, std::ostream& out);

}  // namespace parsl::report
