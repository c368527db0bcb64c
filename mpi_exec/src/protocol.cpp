#include "parsl/mpi_exec/protocol.hpp"

#include "parsl/runtime/app_def.hpp"
#include "parsl/serial/codec.hpp"

namespace parsl::mpi {

std::string encode(const DownMsg& m) { return serial::encode(m); }
std::string encode(const UpMsg& m) { return serial::encode(m); }
std::string encode(const ShareMsg& m) { return serial::encode(m); }

namespace {
template <class T>
T decode_checked(std::string_view bytes, int source, const char* what) {
  try {
    return serial::decode<T>(bytes);
  } catch (const SerializationError& e) {
    throw ProtocolError("malformed " + std::string(what) + " message of " + std::to_string(bytes.size()) +
                        " bytes from rank " + std::to_string(source) + ": " + e.what());
  }
}

void check_tasks(const std::vector<TaskMsg>& tasks, int source, const char* what) {
  for (const auto& t : tasks) {
    if (t.app.empty() || t.attempt == 0)
      throw ProtocolError(std::string(what) + " message from rank " + std::to_string(source) + " holds task " +
                          std::to_string(t.id) + " with " + (t.app.empty() ? "no app name" : "try number 0"));
    // NaN, infinity or a huge value would overflow the worker's clock arithmetic.
    if (!(t.walltime >= 0 && t.walltime <= kMaxWalltime))
      throw ProtocolError(std::string(what) + " message from rank " + std::to_string(source) + " holds task " +
                          std::to_string(t.id) + " with a walltime of " + std::to_string(t.walltime) + " s");
    if (t.res.cores < 1 || t.res.gpus < 0 || t.res.ranks < 1)
      throw ProtocolError(std::string(what) + " message from rank " + std::to_string(source) + " holds task " +
                          std::to_string(t.id) + " asking for " + std::to_string(t.res.cores) + " cores, " +
                          std::to_string(t.res.gpus) + " GPUs and " + std::to_string(t.res.ranks) + " ranks");
  }
}
}  // namespace

ResourceSample decode_usage(std::string_view bytes, int source) {
  ResourceSample s;
  try {
    s = serial::decode<ResourceSample>(bytes);
  } catch (const SerializationError& e) {
    throw ProtocolError("malformed resource sample of " + std::to_string(bytes.size()) + " bytes from rank " +
                        std::to_string(source) + ": " + e.what());
  }
  if (s.status.size() > 64 || !(s.interval >= 0) || !(s.time_user >= 0) || !(s.memory_resident >= 0))
    throw ProtocolError("resource sample from rank " + std::to_string(source) + " holds impossible values");
  return s;
}

DownMsg decode_down(std::string_view bytes, int source) {
  DownMsg m = decode_checked<DownMsg>(bytes, source, "task");
  if (static_cast<std::uint8_t>(m.control) > 2)
    throw ProtocolError("task message from rank " + std::to_string(source) + " has an unknown control code " +
                        std::to_string(static_cast<int>(m.control)));
  check_tasks(m.tasks, source, "task");
  for (const auto& p : m.placed) {
    const std::string where = "task message from rank " + std::to_string(source) + " places task " +
                              std::to_string(p.task.id);
    if (p.members.empty() || p.member < -1 || p.member >= static_cast<std::int32_t>(p.members.size()))
      throw ProtocolError(where + " as member " + std::to_string(p.member) + " of " + std::to_string(p.members.size()));
    if (p.member >= 0) check_tasks({p.task}, source, "task");
    if (p.cores.size() > (1U << 16) || p.gpus.size() > 1024)
      throw ProtocolError(where + " on " + std::to_string(p.cores.size()) + " cores and " +
                          std::to_string(p.gpus.size()) + " GPUs");
    for (std::int32_t c : p.cores)
      if (c < 0) throw ProtocolError(where + " on core " + std::to_string(c));
    for (std::int32_t g : p.gpus)
      if (g < 0) throw ProtocolError(where + " on GPU " + std::to_string(g));
  }
  return m;
}

ShareMsg decode_share(std::string_view bytes, int source) {
  ShareMsg m = decode_checked<ShareMsg>(bytes, source, "shared value");
  for (const auto& [id, value] : m.values)
    if (id == 0) throw ProtocolError("shared value message from rank " + std::to_string(source) + " holds id 0");
  return m;
}

UpMsg decode_up(std::string_view bytes, int source) {
  UpMsg m = decode_checked<UpMsg>(bytes, source, "result");
  if (m.credit < 0)
    throw ProtocolError("result message from rank " + std::to_string(source) + " grants negative credit " +
                        std::to_string(m.credit));
  for (const auto& e : m.events) {
    if (static_cast<std::uint8_t>(e.kind) > 4)
      throw ProtocolError("result message from rank " + std::to_string(source) + " has an event of unknown kind " +
                          std::to_string(static_cast<int>(e.kind)) + " for task " + std::to_string(e.id));
    if (!(e.seconds >= 0 && e.seconds <= kMaxWalltime * 2))
      throw ProtocolError("result message from rank " + std::to_string(source) + " gives task " +
                          std::to_string(e.id) + " a run time of " + std::to_string(e.seconds) + " s");
    if (e.started_us < 0)
      throw ProtocolError("result message from rank " + std::to_string(source) + " gives task " +
                          std::to_string(e.id) + " a start time before 1970 (" + std::to_string(e.started_us) + " us)");
    if (e.kind == EventKind::usage) (void)decode_usage(e.payload, source);
  }
  check_tasks(m.returned, source, "result");
  if (m.notes_dropped < 0)
    throw ProtocolError("result message from rank " + std::to_string(source) + " counts " +
                        std::to_string(m.notes_dropped) + " start-up lines not sent");
  return m;
}

}  // namespace parsl::mpi
