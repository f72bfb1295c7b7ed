"""The Step Functions API of ``scones up`` against ``moto_server``, side by side, over HTTP with boto3.

One execution is StartExecution of a 3-state Pass machine, then DescribeExecution
polled until it is no longer RUNNING, as unchanged user code does it. Each server
runs in a process of its own; the clients are boto3 clients in this process.

Measured for each server:

- latency of one execution alone (start to SUCCEEDED seen by the client), p50 and p90;
- executions per second started and finished by 16 client threads.

moto runs executions only when configured with ``{"stepfunctions": {"execute_state_machine": true}}``
(set through its ``/moto-api/config`` endpoint here); then it runs each execution on a
thread of its own with the interpreter it ships.

    python benchmarks/local_aws_sfn.py                       # both servers
    python benchmarks/local_aws_sfn.py --only scones --executions 4000
    python benchmarks/local_aws_sfn.py serve --port 4566     # the gateway alone, in the foreground

``serve`` runs the Step Functions part of the gateway on its own (``--home`` is its SCONES_HOME;
a temporary one by default): the ASL conformance cases go through it too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _shared import cpu_seconds, free_port, port_answers, stop, wait_until

ROLE = "arn:aws:iam::123456789012:role/benchmark-sfn-role"
DEFINITION = json.dumps({"StartAt": "One", "States": {
    "One": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.one", "Next": "Two"},
    "Two": {"Type": "Pass", "Result": {"n": 2}, "ResultPath": "$.two", "Next": "Three"},
    "Three": {"Type": "Pass", "End": True}}})
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


# -- serving -------------------------------------------------------------------------------
def serve(port: int, home: Path | None, ready_file: Path | None, host: str = "127.0.0.1") -> None:
    """The gateway with Step Functions only, in the foreground, until SIGINT/SIGTERM."""
    import uvicorn

    from scones.config import Settings
    from scones.gateway.app import Gateway
    from scones.gateway.routing import Service
    from scones.gateway.stepfunctions import StepFunctionsService, local_executions

    with contextlib.ExitStack() as stack:
        if home is None:
            home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scones-sfn-")))
        executions = local_executions(Settings(home=home))  # as `scones up` keeps them, under this home
        app = Gateway({Service.STEP_FUNCTIONS: StepFunctionsService(executions)})
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY by asyncio
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        if ready_file is not None:
            ready_file.write_text(json.dumps({"port": sock.getsockname()[1], "pid": os.getpid()}))
        print(f"Step Functions on http://{host}:{sock.getsockname()[1]} (state in {home})", file=sys.stderr)
        config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=5)
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the SIGINT it handled, once shut down
            uvicorn.Server(config).run(sockets=[sock])


@contextlib.contextmanager
def scones_server() -> Iterator[tuple[str, int]]:
    with tempfile.TemporaryDirectory(prefix="scones-sfn-bench-") as tmp:
        ready = Path(tmp) / "ready.json"
        proc = subprocess.Popen([sys.executable, __file__, "serve", "--port", "0", "--home", tmp,
                                 "--ready-file", str(ready)], stdout=subprocess.DEVNULL)
        try:
            port = wait_until(lambda: json.loads(ready.read_text())["port"] if ready.exists() else None, proc,
                              "the scones gateway")
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            stop(proc, signal.SIGINT)


@contextlib.contextmanager
def moto_server() -> Iterator[tuple[str, int]]:
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: port_answers(port), proc, "moto_server")
        import urllib.request

        config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/config", data=config, method="POST",
                                                      headers={"Content-Type": "application/json"}), timeout=10)
        yield url, proc.pid
    finally:
        stop(proc, signal.SIGINT)


# -- measuring -----------------------------------------------------------------------------
def client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}, max_pool_connections=64))


def one_execution(sfn: Any, machine: str, poll: float) -> tuple[float, str, int]:
    """Seconds from StartExecution to the terminal status as the client sees it, the status, and the
    number of DescribeExecution calls it took."""
    started = time.perf_counter()
    # A name of our own: moto names an unnamed execution "None" (and then refuses the second one).
    arn = sfn.start_execution(stateMachineArn=machine, name=str(uuid.uuid4()), input='{"x": 0}')["executionArn"]
    calls = 0
    while True:
        status = sfn.describe_execution(executionArn=arn)["status"]
        calls += 1
        if status in TERMINAL:
            return time.perf_counter() - started, status, calls
        time.sleep(poll)


def measure(name: str, url: str, pid: int, *, alone: int, executions: int, threads: int, processes: int,
            poll: float) -> dict[str, Any]:
    sfn = client(url)
    machine = sfn.create_state_machine(name=f"bench-{int(time.time() * 1000)}", definition=DEFINITION,
                                       roleArn=ROLE)["stateMachineArn"]
    for _ in range(20):  # warm up: connections, imports, caches
        one_execution(sfn, machine, poll)
    latencies = []
    for _ in range(alone):
        seconds, status, _ = one_execution(sfn, machine, poll)
        assert status == "SUCCEEDED", status
        latencies.append(seconds)
    latencies.sort()

    # The client threads are spread over processes: boto3 spends milliseconds of CPU per call, and 16
    # threads of one process would measure the client's GIL, not the server.
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Barrier(processes + 1)
    results: multiprocessing.Queue[tuple[list[str], int, float]] = ctx.Queue()
    shares = [executions // processes + (i < executions % processes) for i in range(processes)]
    workers = [ctx.Process(target=client_process, args=(url, machine, share, threads // processes, poll, ready,
                                                        results)) for share in shares]
    for w in workers:
        w.start()
    ready.wait()
    started, server_cpu = time.perf_counter(), cpu_seconds(pid)
    outcomes = [results.get() for _ in workers]
    wall = time.perf_counter() - started
    server_cpu = cpu_seconds(pid) - server_cpu
    for w in workers:
        w.join()
    statuses = [s for batch, _, _ in outcomes for s in batch]
    return {"server": name, "p50_ms": statistics.median(latencies) * 1000,
            "p90_ms": latencies[int(len(latencies) * 0.9)] * 1000, "executions": executions,
            "per_second": executions / wall, "not_succeeded": sum(s != "SUCCEEDED" for s in statuses),
            "server_cpu_ms": server_cpu / executions * 1000,
            "client_cpu_ms": sum(cpu for _, _, cpu in outcomes) / executions * 1000,
            "describes": sum(calls for _, calls, _ in outcomes) / executions}


def client_process(url: str, machine: str, count: int, threads: int, poll: float, ready: Any,
                   results: Any) -> None:
    """``count`` executions over ``threads`` threads of this process, started when every process is ready."""
    clients = [client(url) for _ in range(threads)]
    for sfn in clients:  # connected and warm before the clock starts
        sfn.describe_state_machine(stateMachineArn=machine)
    shares = [count // threads + (i < count % threads) for i in range(threads)]
    ready.wait()
    cpu = time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        batches = list(pool.map(lambda job: [one_execution(job[0], machine, poll) for _ in range(job[1])],
                                zip(clients, shares, strict=True)))
    outcomes = [o for batch in batches for o in batch]
    results.put(([status for _, status, _ in outcomes], sum(calls for _, _, calls in outcomes),
                 time.process_time() - cpu))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command")
    s = sub.add_parser("serve", help="run the gateway's Step Functions API in the foreground")
    s.add_argument("--port", type=int, default=4566)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--home", type=Path, help="state folder (default: a temporary one)")
    s.add_argument("--ready-file", type=Path, help="write {port, pid} here once listening")
    ap.add_argument("--only", choices=["scones", "moto"], help="measure one server only")
    ap.add_argument("--alone", type=int, default=200, help="executions one at a time, for the latency")
    ap.add_argument("--executions", type=int, default=2000, help="executions for the throughput")
    ap.add_argument("--threads", type=int, default=16, help="client threads in all")
    ap.add_argument("--processes", type=int, default=4, help="client processes the threads are spread over")
    ap.add_argument("--poll", type=float, default=0.0005, help="seconds between DescribeExecution polls")
    args = ap.parse_args(argv)
    if args.command == "serve":
        serve(args.port, args.home, args.ready_file, args.host)
        return 0
    servers = {"scones": scones_server, "moto": moto_server}
    results = []
    for name, start in servers.items():
        if args.only and name != args.only:
            continue
        with start() as (url, pid):
            results.append(measure(name, url, pid, alone=args.alone, executions=args.executions, threads=args.threads,
                                   processes=args.processes, poll=args.poll))
    print(f"{'server':8} {'p50 ms':>8} {'p90 ms':>8} {'exec/s @' + str(args.threads):>12} {'not ok':>7} "
          f"{'server CPU ms/exec':>19} {'client CPU ms/exec':>19} {'describes/exec':>15}")
    for r in results:
        print(f"{r['server']:8} {r['p50_ms']:8.2f} {r['p90_ms']:8.2f} {r['per_second']:12.1f} {r['not_succeeded']:7d} "
              f"{r['server_cpu_ms']:19.2f} {r['client_cpu_ms']:19.2f} {r['describes']:15.1f}")
    if len(results) == 2:
        scones, moto = results
        print(f"scones/moto: latency x{moto['p50_ms'] / scones['p50_ms']:.1f} lower, "
              f"throughput x{scones['per_second'] / moto['per_second']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
