// An MPI program that embeds parsl::run and gets its start or its workflow wrong, in one of
// several ways; the job must end with one clear message, never hang.
//   embed_start SCENARIO abort|return [parsl options]
// Scenarios:
//   differing-options  the last rank of the communicator is given --parsl-mpi-prefetch=4
//   missing-start      the last world rank never calls parsl::run: it waits in a barrier
//   workflow-throws    the workflow throws; the last world rank is a simulation rank outside
//                      the communicator, waiting for rank 0's message after the run
//   thread-single      MPI initialized with MPI_THREAD_SINGLE
// With `return`, each rank of the communicator prints its status and the program exits 0
// when every rank got the status expected (2 for a failed start, 1 for a failed workflow).
// With `abort`, parsl::run must not return on failure.
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <parsl/parsl.hpp>

inline const auto square = parsl::app("embed_start.square", [](int x) { return x * x; });

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: embed_start SCENARIO abort|return [parsl options]\n");
    return 2;
  }
  const std::string scenario = argv[1];
  const auto on_failure = std::strcmp(argv[2], "abort") == 0 ? parsl::OnFailure::abort_job : parsl::OnFailure::return_error;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, scenario == "thread-single" ? MPI_THREAD_SINGLE : MPI_THREAD_MULTIPLE, &provided);
  int world_rank = 0, world_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  parsl::Config config = parsl::Config::from_args(argc - 2, argv + 2);
  const int last = world_size - 1;

  // workflow-throws: the last world rank simulates outside the executor's communicator.
  const bool outside = scenario == "workflow-throws" && world_rank == last;
  MPI_Comm comm;
  MPI_Comm_split(MPI_COMM_WORLD, outside ? MPI_UNDEFINED : 0, world_rank, &comm);
  if (outside) {
    int done = 0;  // the simulation's next step needs rank 0: it waits for ever if rank 0 hangs
    MPI_Recv(&done, 1, MPI_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    std::printf("simulation rank %d: rank 0 is back\n", world_rank);
    MPI_Finalize();
    return 0;
  }
  if (scenario == "missing-start" && world_rank == last) {
    MPI_Barrier(MPI_COMM_WORLD);  // a collective of the host code, which the others never reach
    MPI_Finalize();
    return 1;
  }
  if (scenario == "differing-options" && world_rank == last) config.mpi_options.insert_or_assign("prefetch", std::string("4"));

  std::string error;
  const int status = parsl::run(comm, config, [&] {
    if (square(7).get() != 49) throw std::runtime_error("wrong square");
    if (scenario == "workflow-throws") throw std::runtime_error("the analysis found nonsense");
  }, on_failure, &error);

  // With `return`, every rank gets the error's text, not only its status.
  const char* expected_text = scenario == "workflow-throws" ? "the analysis found nonsense"
                              : scenario == "thread-single"  ? "MPI_THREAD_SINGLE"
                                                             : "prefetch=4 where rank 0 has prefetch=0";
  const bool has_text = error.find(expected_text) != std::string::npos;
  std::printf("rank %d: parsl::run returned %d, %s\n", world_rank, status,
              has_text ? "with the error's text" : "WITHOUT the error's text");
  std::fflush(stdout);
  if (scenario == "workflow-throws" && world_rank == 0) {
    const int done = 1;
    MPI_Send(&done, 1, MPI_INT, last, 7, MPI_COMM_WORLD);
  }
  MPI_Comm_free(&comm);
  MPI_Finalize();
  const int expected = scenario == "workflow-throws" ? 1 : 2;
  return on_failure == parsl::OnFailure::return_error && status == expected && has_text ? 0 : 1;
}
