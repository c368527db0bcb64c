"""The parsl-perf workloads on Dask distributed (Debian python3-distributed).

    python3 dask_bench.py N TASKS LATENCY_SAMPLES FANIN

A LocalCluster of N-1 single-threaded worker processes, matching N MPI ranks of which
one submits. Prints the same CSV lines as parsl-perf --csv.
"""
import logging
import sys
import time

from dask.distributed import Client, LocalCluster


def noop(x):
    return x


def count(values):
    return len(values)


def main():
    np_, tasks, samples, fanin = (int(a) for a in sys.argv[1:5])
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with LocalCluster(n_workers=max(1, np_ - 1), threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        client.submit(noop, 0, pure=False).result()
        t0 = time.perf_counter()
        futures = [client.submit(noop, i, pure=False) for i in range(tasks)]
        submit = time.perf_counter() - t0
        client.gather(futures)
        total = time.perf_counter() - t0
        print(f"throughput,{np_},{tasks},{total:.6f},{tasks / submit:.1f},{tasks / total:.1f}", flush=True)
        lat = []
        for i in range(samples):
            t = time.perf_counter()
            client.submit(noop, i, pure=False).result()
            lat.append((time.perf_counter() - t) * 1e6)
        lat.sort()
        print(f"latency,{np_},{samples},{lat[len(lat) // 2]:.2f},{lat[len(lat) * 99 // 100]:.2f}", flush=True)
        t0 = time.perf_counter()
        parts = [client.submit(noop, i, pure=False) for i in range(fanin)]
        client.submit(count, parts, pure=False).result()  # Dask passes futures as dependencies
        s = time.perf_counter() - t0
        print(f"fanin,{np_},{fanin},{s:.6f},{(fanin + 1) / s:.1f}", flush=True)


if __name__ == "__main__":
    main()
