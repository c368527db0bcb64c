#pragma once
/// @file
/// Everything a parsl-mpi workflow program needs: `#include <parsl/parsl.hpp>`.

#include "parsl/runtime/app.hpp"
#include "parsl/runtime/app_future.hpp"
#include "parsl/runtime/config.hpp"
#include "parsl/runtime/data_flow_kernel.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/executor.hpp"
#include "parsl/runtime/run.hpp"
#include "parsl/runtime/task_state.hpp"
#include "parsl/runtime/thread_pool_executor.hpp"
