// parsl::run three times in one process of one rank: the one-rank note is printed once, not
// per call; the second call cannot start its kernel (a missing checkpoint), and says which
// error type stopped it. Exit 0 when the calls returned 0, 1 and 0.
#include <cstdio>

#include <parsl/parsl.hpp>

inline const auto twice = parsl::app("run_three_times.twice", [](int x) { return 2 * x; });

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);  // the program owns MPI
  parsl::Config good = parsl::Config::from_args(argc, argv);
  parsl::Config bad = good;
  bad.checkpoint_files = {"/nonexistent/parsl-checkpoint.h5"};
  const int a = parsl::run(MPI_COMM_WORLD, good, [] { std::printf("first: %d\n", twice(1).get()); });
  const int b = parsl::run(MPI_COMM_WORLD, bad, [] { std::printf("the workflow must not run\n"); });
  const int c = parsl::run(MPI_COMM_WORLD, good, [] { std::printf("third: %d\n", twice(3).get()); });
  std::printf("statuses %d %d %d\n", a, b, c);
  MPI_Finalize();
  return a == 0 && b == 1 && c == 0 ? 0 : 1;
}
