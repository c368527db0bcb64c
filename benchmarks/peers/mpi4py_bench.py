"""The parsl-perf workloads on mpi4py.futures' MPIPoolExecutor (Debian python3-mpi4py).

    mpirun -np N python3 -m mpi4py.futures mpi4py_bench.py TASKS LATENCY_SAMPLES FANIN

Rank 0 submits; the other N-1 ranks are the pool's workers. Prints CSV lines like
parsl-perf --csv: throughput,N,tasks,seconds,submit_rate,tasks_per_s / latency,N,samples,p50_us,p99_us
/ fanin,N,tasks,seconds,tasks_per_s.
"""
import sys
import time

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor


def noop(x):
    return x


def count(values):
    return len(values)


def main():
    tasks, samples, fanin = (int(a) for a in sys.argv[1:4])
    np_ = MPI.COMM_WORLD.Get_size()
    with MPIPoolExecutor() as pool:
        pool.submit(noop, 0).result()  # workers up
        t0 = time.perf_counter()
        futures = [pool.submit(noop, i) for i in range(tasks)]
        submit = time.perf_counter() - t0
        for f in futures:
            f.result()
        total = time.perf_counter() - t0
        print(f"throughput,{np_},{tasks},{total:.6f},{tasks / submit:.1f},{tasks / total:.1f}", flush=True)
        lat = []
        for i in range(samples):
            t = time.perf_counter()
            pool.submit(noop, i).result()
            lat.append((time.perf_counter() - t) * 1e6)
        lat.sort()
        print(f"latency,{np_},{samples},{lat[len(lat) // 2]:.2f},{lat[len(lat) * 99 // 100]:.2f}", flush=True)
        t0 = time.perf_counter()
        values = [f.result() for f in [pool.submit(noop, i) for i in range(fanin)]]
        pool.submit(count, values).result()
        s = time.perf_counter() - t0
        print(f"fanin,{np_},{fanin},{s:.6f},{(fanin + 1) / s:.1f}", flush=True)


if __name__ == "__main__":
    main()
