#pragma once
/// @file
/// The error base class of parsl-mpi and the serialization layer's own error.

#include <stdexcept>
#include <string>

namespace parsl {

/// Base of every error that parsl-mpi throws. Catch `parsl::Error` to catch them all.
/// Messages name the bad input, what was wrong with it and, where it helps, what to do.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bytes could not be encoded or decoded: a truncated or malformed message, a checkpoint
/// record of the wrong type, or a type Cereal refused.
class SerializationError : public Error {
 public:
  using Error::Error;
};

/// Returns the demangled name of a type as the compiler spells it (`std::runtime_error`),
/// or the mangled name when demangling fails. Thread-safe.
std::string demangle(const char* mangled);

}  // namespace parsl
