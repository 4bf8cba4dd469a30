"""Instructions the collector executes per stored event, counted by callgrind: a figure
that does not move with the machine's speed, so that two builds compare in one run each
(CPU time on these shared cores moves by 25% from one hour to the next).

    cargo build --release -p mayday-collector --example ingest_bench
    python3 tools/ingest-instructions.py target/release/examples/ingest_bench \
        [events] [connections]

Starts `<bench> serve` (the ingest benchmark's collector, SQLite in a temporary folder)
under `valgrind --tool=callgrind`, sends 300 events to warm it up, zeroes the counters,
sends `events` more (2,000 by default) from `connections` connections (8 by default),
each the ingest benchmark's event (about 5.8 KiB, 40 frames, 300 issues, 1,000 users),
and prints the user-space instructions counted per event. Kernel work (the log's
writes) is not counted.

Connections decide the batch sizes, and with them what a batch's fixed work costs per
event: under callgrind 8 connections give batches of about 3.5 events, 32 give about
10, near the 11 to 13 of the ingest benchmark's 32 connections at full speed.
With MAYDAY_CALLGRIND_KEEP=<file>, the dump is copied there for `callgrind_annotate`.
"""
import glob
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

THREADS = 8  # connections, unless given


def envelope(i):
    """The ingest benchmark's event (examples/shared/envelope.rs), i-th of the run."""
    group = i % 300
    frames = [{
        "function": f"shop::module{group}::handler" if f == 39 else f"tokio::runtime::task::poll_{f}",
        "module": f"shop::module{group}" if f == 39 else "tokio::runtime::task",
        "filename": f"src/module{f}.rs",
        "lineno": 10 + f,
        "in_app": f == 39,
    } for f in range(40)]
    event = {
        "event_id": uuid.uuid4().hex, "level": "error", "platform": "rust",
        "release": "shop@1.4.2", "environment": "production",
        "user": {"id": str(i % 1000), "email": f"user{i % 1000}@example.com"},
        "request": {"method": "POST", "url": "https://shop.example/checkout",
                    "headers": {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}},
        "exception": {"values": [{"type": "PaymentError", "value": f"card declined for order {i}",
                                  "stacktrace": {"frames": frames}}]},
        "tags": {"region": "eu-west-1", "tenant": f"tenant-{i % 17}"},
    }
    payload = json.dumps(event, separators=(",", ":")).encode()
    header = json.dumps({"type": "event", "length": len(payload)}).encode()
    return b"{}\n" + header + b"\n" + payload + b"\n"


def send(address, key, start, count, connections=THREADS):
    host, port = address.split(":")
    auth = f"Sentry sentry_version=7, sentry_key={key}"
    failures = []

    def worker(first):
        connection = http.client.HTTPConnection(host, int(port), timeout=600)
        for i in range(start + first, start + count, connections):
            connection.request("POST", "/api/1/envelope/", body=envelope(i),
                               headers={"x-sentry-auth": auth})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit(f"{len(failures)} events refused (statuses {sorted(set(failures))})")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: ingest-instructions.py <path of the ingest_bench example> [events] "
                 "[connections]")
    bench = os.path.abspath(sys.argv[1])
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    connections = int(sys.argv[3]) if len(sys.argv) > 3 else THREADS
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "callgrind.out")
        collector = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             bench, "serve", f"sqlite://{folder}/bench.db?mode=rwc"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True)
        try:
            line = collector.stdout.readline().split()
            if len(line) != 3 or line[0] != "ready":
                sys.exit(f"{bench} serve did not start: {line}")
            _, address, key = line
            send(address, key, 0, 300)
            subprocess.run(["callgrind_control", "--zero", str(collector.pid)], check=True,
                           capture_output=True)
            started = time.time()
            send(address, key, 300, events, connections)
            seconds = time.time() - started
            subprocess.run(["callgrind_control", "--dump", str(collector.pid)], check=True,
                           capture_output=True)
            dumps = sorted(glob.glob(out + ".*"))
            if not dumps:
                sys.exit("callgrind wrote no dump")
            with open(dumps[-1]) as dump:
                total = next(int(l.split()[1]) for l in dump if l.startswith("summary:"))
            if os.environ.get("MAYDAY_CALLGRIND_KEEP"):
                shutil.copy(dumps[-1], os.environ["MAYDAY_CALLGRIND_KEEP"])
        finally:
            os.killpg(collector.pid, signal.SIGTERM)
            collector.wait()
    print(f"{events} events from {connections} connections in {seconds:.1f} s under callgrind: "
          f"{total / events / 1000:,.0f} k instructions per event ({total:,} in all)")


if __name__ == "__main__":
    main()
