#include "parsl/serial/error.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace parsl {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                             std::free);
  if (status == 0 && out) return out.get();
  return mangled;
}

}  // namespace parsl

#include <unistd.h>

#include <climits>

#include "parsl/serial/remote_error.hpp"

namespace parsl::serial {

RemoteError RemoteError::from_exception(const std::exception_ptr& error, std::int32_t rank) {
  RemoteError out;
  out.rank = rank;
  out.host = this_host();
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    out.type_name = demangle(typeid(e).name());
    out.message = e.what();
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    out.type_name = t != nullptr ? demangle(t->name()) : "unknown";
    out.message = "exception of a type not derived from std::exception";
  }
  return out;
}

const std::string& this_host() {
  static const std::string host = [] {
    char buf[HOST_NAME_MAX + 1] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return std::string("unknown-host");
    return std::string(buf);
  }();
  return host;
}

}  // namespace parsl::serial
