#pragma once
/// @file
/// The runtime without MPI: `#include <parsl/runtime.hpp>`. Programs launched with mpirun
/// include <parsl/parsl.hpp>, which adds the MPI executor and `parsl::run`.

#include "parsl/runtime/app.hpp"
#include "parsl/runtime/app_future.hpp"
#include "parsl/runtime/bash_app.hpp"
#include "parsl/runtime/config.hpp"
#include "parsl/runtime/data_flow_kernel.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/exception_registry.hpp"
#include "parsl/runtime/executor.hpp"
#include "parsl/runtime/data_future.hpp"
#include "parsl/runtime/file.hpp"
#include "parsl/runtime/isolation.hpp"
#include "parsl/runtime/run.hpp"
#include "parsl/runtime/shared.hpp"
#include "parsl/runtime/staging.hpp"
#include "parsl/runtime/task_context.hpp"
#include "parsl/runtime/task_state.hpp"
#include "parsl/runtime/thread_pool_executor.hpp"
#include "parsl/serial/checkpoint_file.hpp"  // CheckpointError
