#pragma once
// Internal: the provider factories and the small parsing helpers the providers share.
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsl/launch/provider.hpp"

namespace parsl::launch::detail {

std::unique_ptr<Provider> make_local(CommandRunner& runner, std::chrono::seconds timeout);
std::unique_ptr<Provider> make_slurm(CommandRunner& runner, std::chrono::seconds timeout);
std::unique_ptr<Provider> make_pbspro(CommandRunner& runner, std::chrono::seconds timeout);
std::unique_ptr<Provider> make_torque(CommandRunner& runner, std::chrono::seconds timeout);
std::unique_ptr<Provider> make_cobalt(CommandRunner& runner, std::chrono::seconds timeout);
std::unique_ptr<Provider> make_lsf(CommandRunner& runner, std::chrono::seconds timeout);

std::string trim(std::string s);
std::vector<std::string> lines(const std::string& text);
std::vector<std::string> words(const std::string& line);
/// "[D-]HH:MM:SS", "MM:SS" or "SS" in seconds; nullopt for UNLIMITED, INVALID and the like.
std::optional<long> parse_clock(const std::string& text);
/// spec.scheduler_options, ending in a newline when not empty.
std::string directives(const JobSpec& spec);
/// Runs `program ids...` to cancel jobs. A failure whose stderr contains one of `gone` (the
/// scheduler's words for a job that has already ended) is not an error.
void cancel_jobs(CommandRunner& runner, std::chrono::seconds timeout, const std::string& program,
                 const std::vector<std::string>& ids, std::initializer_list<const char*> gone);
/// Every id of `ids` that `result` lacks is missing (the scheduler no longer lists it).
void mark_missing(std::map<std::string, JobStatus>& result, const std::vector<std::string>& ids);
/// Throws LaunchError for an id that could not have come from a scheduler (it goes on a command line).
void need_ids(const std::vector<std::string>& ids, const char* what);

}  // namespace parsl::launch::detail
