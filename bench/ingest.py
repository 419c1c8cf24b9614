"""Ingest benchmark: pre-serialized multi-agent GenAI requests (512 spans each, 4 in flight) sent over
OTLP/gRPC and OTLP/HTTP to a real `faultlens serve` process.

Prints, per protocol and server set-up: acknowledged spans/s, spans/s until queryable (the last span
visible through `faultlens sql`'s read path), bytes stored per span, the server's peak RSS, and the
CPU time per span of the server process (until queryable, and once settled: its last maintenance
pass and idle checkpoint included), of its decode worker processes and of this client (where the
two cores went). The default set-ups compare serve with and without its ingest journal (acknowledging
once a batch is journaled, or once it is committed to DuckDB); `--configs` also compares in-thread
decoding, decode workers fed through pipes or through shared memory, and DuckDB's thread count.
Figures from one run on one machine are comparable with each other, not across machines.

    python bench/ingest.py [--requests 120] [--batch 512] [--inflight 4] [--protocols grpc,http] [--analysis]
                           [--configs 1/shared-memory/1/no-journal,1/shared-memory/1/journal] [--repeat 3]

The machine's load moves within minutes, and a set-up's first round often meets a colder machine:
`--repeat N` (3 by default) runs N rounds of every set-up, interleaved, and shows the median of each
figure with every round's queryable spans/s.

The default set-ups use serve's default number of decode workers (one core fewer than the
machine has: 1 here on 2 cores).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synthetic_text import AGENTS, WORDS  # noqa: E402  (bench/ is the script folder)

from collector.config import default_decode_workers  # noqa: E402
from store.reader import open_reader  # noqa: E402

WORKERS = default_decode_workers()  # serve's default


def _kv(key: str, value: str | int) -> common_pb2.KeyValue:
    if isinstance(value, int):
        return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(int_value=value))
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))


def _text(rng: random.Random, n: int) -> str:
    out: list[str] = []
    size = 0
    while size < n:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)[:n]


def make_request(rng: random.Random, batch: int, seq: int) -> bytes:
    """``batch`` realistic GenAI spans (~1.8 KB each) in traces of 32 spans across 4 agents."""
    resource_spans = []
    spans_by_service: dict[str, list[trace_pb2.Span]] = {a: [] for a in AGENTS}
    t0 = 1_760_000_000_000_000_000 + seq * 10**10
    for i in range(batch):
        trace_id = (seq * batch + i // 32 + 1).to_bytes(16, "big")
        agent = AGENTS[(i // 8) % len(AGENTS)]
        start = t0 + i * 1_000_000
        msg_in = json.dumps([{"role": "user", "parts": [{"type": "text", "content": _text(rng, 600)}]}])
        msg_out = json.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": _text(rng, 600)}],
                    "finish_reason": "stop",
                }
            ]
        )
        span = trace_pb2.Span(
            trace_id=trace_id,
            span_id=rng.getrandbits(64).to_bytes(8, "big"),
            parent_span_id=b"" if i % 32 == 0 else rng.getrandbits(64).to_bytes(8, "big"),
            name=f"chat {agent}",
            kind=trace_pb2.Span.SPAN_KIND_CLIENT,
            start_time_unix_nano=start,
            end_time_unix_nano=start + 900_000,
            attributes=[
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.provider.name", "openai"),
                _kv("gen_ai.request.model", "gpt-4o"),
                _kv("gen_ai.response.model", "gpt-4o-2024-08-06"),
                _kv("gen_ai.agent.name", agent),
                _kv("gen_ai.conversation.id", f"conv-{seq}-{i // 32}"),
                _kv("gen_ai.usage.input_tokens", rng.randint(100, 2000)),
                _kv("gen_ai.usage.output_tokens", rng.randint(10, 500)),
                _kv("gen_ai.input.messages", msg_in),
                _kv("gen_ai.output.messages", msg_out),
            ],
        )
        spans_by_service[agent].append(span)
    for agent, spans in spans_by_service.items():
        resource_spans.append(
            trace_pb2.ResourceSpans(
                resource=resource_pb2.Resource(attributes=[_kv("service.name", f"{agent}-svc")]),
                scope_spans=[
                    trace_pb2.ScopeSpans(scope=common_pb2.InstrumentationScope(name="bench"), spans=spans)
                ],
            )
        )
    return trace_service_pb2.ExportTraceServiceRequest(resource_spans=resource_spans).SerializeToString()


def start_server(
    db: Path,
    decode_workers: int,
    db_threads: int | None = None,
    handoff: str = "shared-memory",
    analysis: bool = False,
    journal: bool = True,
) -> tuple[subprocess.Popen[str], int, int]:
    # DuckDB's default is its own thread count (one per core), not serve's default of 1.
    threads = ["--db-threads", str(db_threads or os.cpu_count() or 1)]
    threads.append("--decode-pipes" if handoff == "pipes" else "--decode-shared-memory")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faultlens",
            "serve",
            "--db",
            str(db),
            "--grpc-port",
            "0",
            "--http-port",
            "0",
            "--analysis" if analysis else "--no-analysis",
            "--journal" if journal else "--no-journal",
            "--decode-workers",
            str(decode_workers),
            *threads,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(r"grpc=[^:]+:(\d+) http=[^:]+:(\d+)", line)
        if m:
            return proc, int(m.group(1)), int(m.group(2))
    raise RuntimeError("server did not start")


def send_all(protocol: str, port: int, bodies: list[bytes], inflight: int) -> float:
    work: queue.Queue[bytes] = queue.Queue()
    for b in bodies:
        work.put(b)
    errors: list[str] = []

    def worker() -> None:
        if protocol == "grpc":
            channel = grpc.insecure_channel(
                f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 1 << 28)]
            )
            call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    break
                while True:
                    try:
                        call(body, timeout=60)
                        break
                    except grpc.RpcError as e:
                        if e.code() != grpc.StatusCode.UNAVAILABLE:
                            errors.append(str(e.code()))
                            break
                        time.sleep(0.05)
            channel.close()
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    break
                while True:
                    conn.request(
                        "POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"}
                    )
                    resp = conn.getresponse()
                    resp.read()
                    if resp.status == 200:
                        break
                    if resp.status not in (429, 503):
                        errors.append(str(resp.status))
                        break
                    time.sleep(0.05)
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(inflight)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{protocol}: {len(errors)} failed requests, e.g. {errors[0]}")
    return time.perf_counter() - t0


def wait_queryable(db: Path, expected: int, t_start: float) -> float:
    while True:
        reader = open_reader(str(db))
        try:
            n = int(reader.query("select count(*) from spans").column(0)[0].as_py())
        finally:
            reader.close()
        if n >= expected:
            return time.perf_counter() - t_start
        time.sleep(0.01)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the server process and by its child processes (decode workers)."""
    children = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children += _cpu_seconds(int(entry.name))
        except (OSError, ValueError):
            continue
    return _cpu_seconds(pid), children


def settled_cpu(pid: int, quiet_s: float = 1.5) -> float:
    """The server process's CPU seconds once it has gone quiet (its last maintenance pass and its
    idle checkpoint done): the work a span costs beyond being queryable."""
    last, _ = server_cpu(pid)
    while True:
        time.sleep(quiet_s)
        now, _ = server_cpu(pid)
        if now - last < 0.02 * quiet_s:
            return now
        last = now


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _threads(value: str) -> int | None:
    return None if value == "default" else int(value)  # None: DuckDB's default (one per core)


Config = tuple[str, int, int | None, str, bool]  # protocol, decode workers, DuckDB threads, hand-off, journal
#: acked spans/s, queryable spans/s, bytes/span, peak RSS MB, CPU us/span: server, settled, workers, client
Row = tuple[float, float, float, float, float, float, float, float]


def _label(config: Config) -> str:
    protocol, workers, threads, handoff, journal = config
    return (
        f"{protocol}, {workers} decode workers ({handoff}), db threads {threads or 'default'}, "
        f"{'journal' if journal else 'no journal'}"
    )


def run_once(config: Config, bodies: list[bytes], total: int, inflight: int, analysis: bool) -> Row:
    """Send ``bodies`` (``total`` spans) to a fresh ``serve`` set up as ``config``; measure one row."""
    protocol, workers, threads, handoff, journal = config
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        proc, gport, hport = start_server(db, workers, threads, handoff, analysis, journal)
        try:
            main0, workers0 = server_cpu(proc.pid)
            client0 = time.process_time()
            t_start = time.perf_counter()
            ack = send_all(protocol, gport if protocol == "grpc" else hport, bodies, inflight)
            client1 = time.process_time()
            queryable = wait_queryable(db, total, t_start)
            main1, workers1 = server_cpu(proc.pid)
            settled = settled_cpu(proc.pid)
            rss = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(60)
        size = sum(p.stat().st_size for p in Path(tmp).glob("bench.duckdb*") if p.is_file())
    return (
        total / ack,
        total / queryable,
        size / total,
        rss,
        (main1 - main0) / total * 1e6,
        (settled - main0) / total * 1e6,
        (workers1 - workers0) / total * 1e6,
        (client1 - client0) / total * 1e6,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=120)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--inflight", type=int, default=4)
    ap.add_argument("--protocols", default="grpc,http", help="comma-separated: grpc, http")
    ap.add_argument(
        "--analysis",
        action="store_true",
        help="run serve with its incremental analysis on (default off: ingest alone)",
    )
    ap.add_argument(
        "--configs",
        default=f"{WORKERS}/shared-memory/1/no-journal,{WORKERS}/shared-memory/1/journal",
        help="comma-separated server set-ups to compare, each DECODE_WORKERS/HANDOFF/DB_THREADS[/JOURNAL] "
        "(HANDOFF: shared-memory or pipes; DB_THREADS: a number, or 'default' for DuckDB's own; "
        "JOURNAL: journal (the default) or no-journal)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of every set-up, interleaved; the table shows each figure's median",
    )
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    rng = random.Random(7)
    bodies = [make_request(rng, args.batch, i) for i in range(args.requests)]
    total = args.requests * args.batch
    avg = sum(len(b) for b in bodies) / total
    print(
        f"{args.requests} requests x {args.batch} spans = {total} spans, {avg:.0f} B/span of OTLP protobuf, "
        f"{args.inflight} in flight, analysis {'on' if args.analysis else 'off'}"
    )
    configs: list[Config] = []
    for spec in args.configs.split(","):
        w, h, t, *j = spec.split("/")
        journal = (j or ["journal"])[0] != "no-journal"
        configs += [(p, int(w), _threads(t), h, journal) for p in args.protocols.split(",")]
    # Rounds interleave the set-ups, so that each meets the machine's load of the same minutes.
    runs: dict[Config, list[Row]] = {c: [] for c in configs}
    for _ in range(args.repeat):
        for config in configs:
            runs[config].append(run_once(config, bodies, total, args.inflight, args.analysis))
    results = {c: tuple(map(statistics.median, zip(*rows, strict=True))) for c, rows in runs.items()}
    if args.repeat > 1:
        print(f"medians of {args.repeat} interleaved rounds; queryable spans/s of each round:")
        for config, rows in runs.items():
            print(f"  {_label(config)}: " + ", ".join(f"{r[1]:,.0f}" for r in rows))
    print(
        f"{'protocol':<8} {'decode workers':>14} {'hand-off':>13} {'db threads':>10} {'journal':>7} "
        f"{'acked spans/s':>14} {'queryable spans/s':>18} {'bytes/span':>11} {'peak RSS MB':>12} "
        f"{'CPU us/span: server':>20} {'settled':>8} {'decode workers':>15} {'client':>7}"
    )
    for (protocol, workers, threads, handoff, journal), row in results.items():
        acked, q, bps, rss, cpu_main, cpu_settled, cpu_workers, cpu_client = row
        print(
            f"{protocol:<8} {workers:>14} {handoff if workers else '-':>13} {threads or 'default':>10} "
            f"{'yes' if journal else 'no':>7} "
            f"{acked:>14,.0f} {q:>18,.0f} {bps:>11,.0f} {rss:>12,.0f} {cpu_main:>20.1f} {cpu_settled:>8.1f} "
            f"{cpu_workers:>15.1f} {cpu_client:>7.1f}"
        )
    print(
        "CPU us/span: server and decode workers until the last span was queryable; 'settled' adds the "
        "server's work after it (its last maintenance pass, the idle checkpoint"
        + (", and the analysis of every trace" if args.analysis else "")
        + "); client: this process while sending."
    )
    base = results[configs[0]][1]
    for config, value in results.items():
        print(f"queryable throughput {_label(config)}, relative to the first row: {value[1] / base:.2f}")


if __name__ == "__main__":
    main()
