#pragma once
/// @file
/// Everything a parsl-mpi workflow program needs: `#include <parsl/parsl.hpp>`.

#include "parsl/mpi_exec/mpi_app.hpp"
#include "parsl/mpi_exec/mpi_executor.hpp"
#include "parsl/mpi_exec/run.hpp"
#include "parsl/mpi_exec/session.hpp"
#include "parsl/runtime.hpp"
