"""Summary of bench/stream-slots' JSON lines: per (protocol, slots, producer threads), the C
consumer's CPU per batch over all epochs of all rounds (sums, not medians of epochs: an epoch of
32 batches holds only 1-5 sleeps), epoch 0 (with the start-up wait) apart from epochs 1+; then
the Python consumer's CPU per batch end to end (median over rounds)."""
import json
import statistics
import sys


def c_rows(rows, wake, slots, threads, first):
    return [r for r in rows if r.get("tool") == "ard" and "threads" in r and r["wake"] == wake
            and r["slots"] == slots and r["threads"] == threads and (r["epoch"] == 0) == first]


def agg(rs):
    b = sum(r["batches"] for r in rs)
    if not b:
        return None
    cpu = sum(r["consumer_cpu_us_per_batch"] * r["batches"] for r in rs)
    ready = sum(r["consumer_ready_cpu_us_per_batch"] * r["batches"] for r in rs)
    waits = sum(r["waits_per_batch"] * r["batches"] for r in rs)
    switches = sum(r["consumer_switches_per_wait"] * r["waits_per_batch"] * r["batches"] for r in rs)
    secs = sum(r["seconds"] for r in rs)
    return {"batches": b, "cpu": cpu / b, "ready": ready / b, "wait": (cpu - ready) / b,
            "waits": waits / b, "per_wait": (cpu - ready) / waits if waits else 0.0,
            "switches": switches / waits if waits else 0.0,
            "sps": sum(r["spectra"] for r in rs) / secs if secs else 0.0,
            "store_mb": rs[0]["store_mb"], "rss_mb": max(r["peak_rss_mb"] for r in rs)}


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
    wakes = [w for w in ("before", "legacy", "new") if any(r.get("wake") == w for r in rows)]
    print("C consumer (bench_stream_loader), us per batch; all epochs of all rounds")
    print(f"{'protocol':8} {'slots':>5} {'thr':>3} {'epochs':7} {'batches':>7} {'spectra/s':>9} "
          f"{'end2end':>8} {'consumed':>8} {'waiting':>8} {'sleeps/b':>8} {'us/sleep':>8} "
          f"{'csw/sleep':>9} {'ring MB':>7} {'peakRSS':>7}")
    for slots in (10, 16, 32, 64):
        for threads in (1, 2):
            for wake in wakes:
                for first, label in ((True, "0"), (False, "1+")):
                    a = agg(c_rows(rows, wake, slots, threads, first))
                    if a:
                        print(f"{wake:8} {slots:5d} {threads:3d} {label:7} {a['batches']:7d} "
                              f"{a['sps']:9.0f} {a['cpu']:8.2f} {a['ready']:8.2f} {a['wait']:8.2f} "
                              f"{a['waits']:8.3f} {a['per_wait']:8.1f} {a['switches']:9.2f} "
                              f"{a['store_mb']:7.1f} {a['rss_mb']:7.1f}")
    py = [r for r in rows if r.get("tool") == "ard" and "workers" in r]
    if py:
        print("Python consumer (iter_torch_batches), ms per batch end to end, median over rounds")
        for slots in (10, 32):
            for threads in (1, 2):
                for wake in wakes:
                    v = [r for r in py if r["wake"] == wake and r.get("slots") == slots
                         and r["workers"] == threads]
                    if v:
                        print(f"  {wake:8} slots {slots:2d} threads {threads}: "
                              f"{statistics.median(r['consumer_cpu_ms_per_batch'] for r in v):.3f} "
                              f"ms ({', '.join(str(r['consumer_cpu_ms_per_batch']) for r in v)}); "
                              f"spectra/s {statistics.median(r['spectra_per_s'] for r in v):.0f}; "
                              f"peak RSS {max(r['peak_rss_mb'] for r in v):.0f} MB")


if __name__ == "__main__":
    main()
