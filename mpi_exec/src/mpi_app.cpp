#include "parsl/mpi_exec/mpi_app.hpp"

namespace parsl::mpi {

namespace {
thread_local MPI_Comm tl_task_comm = MPI_COMM_NULL;
}

MPI_Comm task_comm() noexcept { return tl_task_comm; }

detail::ScopedTaskComm::ScopedTaskComm(MPI_Comm comm) noexcept : saved_(tl_task_comm) { tl_task_comm = comm; }
detail::ScopedTaskComm::~ScopedTaskComm() { tl_task_comm = saved_; }

}  // namespace parsl::mpi
