#pragma once
/// @file
/// `MpiError` and the checked-call macro for MPI.

#include <mpi.h>

#include <string>

#include "parsl/serial/error.hpp"

namespace parsl {

/// An MPI call failed. Carries MPI's error code and its text.
class MpiError : public Error {
 public:
  MpiError(const std::string& call, int code);
  int code() const noexcept { return code_; }

 private:
  int code_;
};

}  // namespace parsl

/// Calls an MPI function and throws parsl::MpiError naming it when it does not succeed.
/// Our communicators use MPI_ERRORS_RETURN, so errors come back as codes.
#define PARSL_MPI_CHECK(call)                                          \
  do {                                                                 \
    const int parsl_mpi_rc_ = (call);                                  \
    if (parsl_mpi_rc_ != MPI_SUCCESS) throw ::parsl::MpiError(#call, parsl_mpi_rc_); \
  } while (0)
