"""A mix of task lengths on mpi4py.futures' MPIPoolExecutor (Debian python3-mpi4py).

    mpirun -np N python3 -m mpi4py.futures mpi4py_mixed.py DURATIONS_FILE [WARMUP_NOOPS]

Submits WARMUP_NOOPS no-op tasks (default 0) and, right behind them, one task per line of
DURATIONS_FILE that sleeps that many seconds; prints the makespan of the sleeping tasks in
seconds (from their first submission to the last result), as benchmarks/mixed_workload does.
"""
import sys
import time

from mpi4py.futures import MPIPoolExecutor


def noop(x):
    return x


def main():
    durations = [float(line) for line in open(sys.argv[1]) if line.strip()]
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with MPIPoolExecutor() as pool:
        pool.submit(noop, 0).result()  # workers up
        warm = [pool.submit(noop, i) for i in range(warmup)]  # the long tasks follow at once
        t0 = time.perf_counter()
        futures = [pool.submit(time.sleep, d) for d in durations]
        for f in futures:
            f.result()
        for f in warm:
            f.result()
        print(f"{time.perf_counter() - t0:.3f}")


if __name__ == "__main__":
    main()
