// A small MPI program for tasks to start inside a pilot job: every rank reports, rank 0
// prints the size. Exits 0 only when the world it joined has the size it was asked for.
#include <mpi.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int sum = 0, one = 1;
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  const int want = argc > 1 ? std::atoi(argv[1]) : size;
  if (rank == 0) std::printf("mpi_hello: %d ranks (wanted %d)\n", sum, want);
  MPI_Finalize();
  return sum == want ? 0 : 3;
}
