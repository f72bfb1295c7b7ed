"""The local AWS APIs of ``scones up`` next to moto_server, side by side in one run.

    PYTHONPATH=src .venv/bin/python benchmarks/local_aws.py [--duration 6] [--clients 16]

One function per measured service, each starting both servers in their own processes (so the client does
not share their GIL) and driving the same boto3 calls, printing the figures side by side:

- S3 (``bench_s3``): PutObject + GetObject of a 3 KB PNG from one client shared by N threads
  (``max_pool_connections=32``): requests/s, p50/p99 latency, the ratio. Targets at 16 clients:
  >= 3 x moto_server's requests/s, p99 <= 20 ms. boto3's own CPU (~3 ms a request) bounds that run on
  2 cores, so the same requests are also sent by a light HTTP client (``light_s3_load``), where the
  server is the bottleneck; both are printed.
- Step Functions (``local_aws_sfn.py``, run from here): StartExecution -> SUCCEEDED of a 3-state Pass machine:
  p50 <= 10 ms alone; >= 200 executions/s started and finished at 16 clients.
- ``scones up`` ready (``bench_ready``): from the command's start to its first answered request, without a
  model (<= 1.5 s) and with one (<= 3 s), beside moto_server's start.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _shared import REPO, cpu_seconds, free_port, port_answers, stop, test_pngs, wait_until


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    server_cpu_ms: float = float("nan")  # the server process's CPU time per request
    client_cpu_ms: float = float("nan")

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def line(self) -> str:
        return (f"  {self.name:<14} {self.rate:8.0f} req/s   p50 {self.percentile(0.5):6.2f} ms   "
                f"p99 {self.percentile(0.99):6.2f} ms   errors {self.errors}   CPU per request: "
                f"server {self.server_cpu_ms:.2f} ms, client {self.client_cpu_ms:.2f} ms")


# -- servers ---------------------------------------------------------------------------------
@dataclass
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)


@contextlib.contextmanager
def _process(args: list[str], port: int, what: str) -> Iterator[Server]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_answers(port), proc, what)
        yield Server(f"http://127.0.0.1:{port}", proc.pid)
    finally:
        stop(proc)


def gateway_s3(home: Path) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    return _process([sys.executable, __file__, "--serve-s3", str(home), str(port)], port, "the scones gateway")


def moto_server() -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    return _process([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port, "moto_server")


def _serve_s3(home: str, port: str) -> None:
    """The child process: the gateway with the S3 service, as ``scones up`` runs it (uvicorn, httptools, uvloop)."""
    import logging

    import uvicorn

    from scones.gateway.app import Gateway
    from scones.gateway.routing import Service
    from scones.gateway.s3 import S3Service

    logging.basicConfig(level=logging.WARNING)
    app = Gateway({Service.S3: S3Service(Path(home) / "store", state_dir=Path(home) / "state" / "s3")})
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False, lifespan="on")


# -- load ----------------------------------------------------------------------------------------
def drive(name: str, server: Server, calls: Callable[[int, int], list[Callable[[], Any]]], clients: int,
          duration: float, warmup: float = 1.0) -> Result:
    """``clients`` threads repeat ``calls(thread, i)`` (a list of requests) for ``duration`` seconds."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]
    measure_from = [0.0]

    def worker(n: int) -> None:
        start.wait()
        i = 0
        while True:
            for call in calls(n, i):
                began = time.perf_counter()
                if began >= stop_at[0]:
                    return
                try:
                    call()
                except Exception:
                    errors[n] += 1
                if began >= measure_from[0]:
                    latencies[n].append((time.perf_counter() - began) * 1000)
            i += 1

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    now = time.perf_counter()
    measure_from[0] = now + warmup
    stop_at[0] = now + warmup + duration
    start.wait()
    time.sleep(max(0.0, measure_from[0] - time.perf_counter()))
    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    for t in threads:
        t.join()
    server_cpu, client_cpu = server.cpu_seconds() - server_cpu, time.process_time() - client_cpu
    flat = [x for per in latencies for x in per]
    return Result(name, len(flat), duration, flat, sum(errors), server_cpu * 1000 / max(1, len(flat)),
                  client_cpu * 1000 / max(1, len(flat)))


def s3_client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(max_pool_connections=32, retries={"max_attempts": 1},
                                      s3={"addressing_style": "path"}))


def s3_load(name: str, server: Server, png: bytes, clients: int, duration: float) -> Result:
    client = s3_client(server.url)
    if "bench" not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket="bench")

    def calls(n: int, i: int) -> list[Callable[[], Any]]:
        key = f"images/{n}/{i % 50}.png"
        return [lambda: client.put_object(Bucket="bench", Key=key, Body=png, ContentType="image/png"),
                lambda: client.get_object(Bucket="bench", Key=key)["Body"].read()]

    return drive(name, server, calls, clients, duration)


def light_s3_load(name: str, server: Server, png: bytes, clients: int, duration: float) -> Result:
    """The same PutObject + GetObject pairs from a load generator that is not the bottleneck.

    boto3 spends ~3 ms of CPU per request under one GIL: with it as the client, a 2-core machine measures
    boto3, not the server (even a server that cost nothing would be capped near 1 / 3 ms). Here each thread
    keeps one HTTP/1.1 connection and sends the headers boto3 sends (path style, a SigV4 ``Authorization``
    whose scope names S3, ``x-amz-content-sha256``), built once; neither server checks signatures with
    placeholder keys on 127.0.0.1, so both get the same requests.
    """
    import http.client
    from urllib.parse import urlsplit

    s3_load("warm-up", server, png, 1, 0.2)  # creates the bucket, as the boto3 run does
    where = urlsplit(server.url)
    connections: list[http.client.HTTPConnection | None] = [None] * clients
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    common = {"Host": where.netloc, "X-Amz-Date": stamp, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
              "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/{stamp[:8]}/us-east-1/s3/aws4_request, "
                               "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64}
    put_headers = {**common, "Content-Type": "image/png", "Content-Length": str(len(png))}

    def send(n: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> None:
        conn = connections[n]
        if conn is None:
            conn = connections[n] = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except Exception:
            conn.close()
            connections[n] = None
            raise
        if response.status != 200 or (method == "GET" and data != png):
            raise RuntimeError(f"{method} {path}: HTTP {response.status}")

    def calls(n: int, i: int) -> list[Callable[[], Any]]:
        path = f"/bench/light/{n}/{i % 50}.png"
        return [lambda: send(n, "PUT", path, png, put_headers), lambda: send(n, "GET", path, None, common)]

    return drive(name, server, calls, clients, duration)


def bench_s3(clients: int, duration: float) -> tuple[Result, Result]:
    png = test_pngs(1)[0]
    print(f"S3: PutObject + GetObject of a {len(png)}-byte PNG, {clients} client threads, {duration:.0f} s each; "
          f"then 1 client thread ({duration / 2:.0f} s) for the latency of a lone request")
    with tempfile.TemporaryDirectory() as home:
        with gateway_s3(Path(home)) as server:
            ours = s3_load("scones gateway", server, png, clients, duration)
            ours_one = s3_load("  1 client", server, png, 1, duration / 2)
            ours_light = light_s3_load("scones gateway", server, png, clients, duration)
    with moto_server() as server:
        moto = s3_load("moto_server", server, png, clients, duration)
        moto_one = s3_load("  1 client", server, png, 1, duration / 2)
        moto_light = light_s3_load("moto_server", server, png, clients, duration)
    print(" boto3 clients (the client's CPU bounds both runs):")
    for result in (ours, ours_one, moto, moto_one):
        print(result.line())
    print(f" a light HTTP client ({clients} threads, one keep-alive connection each; the server is the bottleneck):")
    for result in (ours_light, moto_light):
        print(result.line())
    light_ratio, light_p99 = ours_light.rate / moto_light.rate, ours_light.percentile(0.99)
    light_ok = light_ratio >= 3 and light_p99 <= 20 and ours_light.errors == 0
    print(f"  server-bound: ratio {light_ratio:.1f}x moto_server's requests/s (target >= 3x); p99 {light_p99:.1f} ms "
          f"at {clients} clients (target <= 20 ms) -> {'met' if light_ok else 'NOT met'}")
    ratio = ours.rate / moto.rate
    p99 = ours.percentile(0.99)
    ok = ratio >= 3 and p99 <= 20 and ours.errors == 0
    print(f"  boto3-bound: ratio {ratio:.1f}x moto_server's requests/s (target >= 3x); server CPU per request "
          f"{moto.server_cpu_ms / ours.server_cpu_ms:.1f}x less; p99 {p99:.1f} ms at {clients} clients "
          f"(target <= 20 ms) -> {'met' if ok else 'NOT met'}")
    # Little's law: N requests in flight at R per second wait N/R on average, whatever the server does.
    print(f"  note: {clients} clients in flight at {ours.rate:.0f} req/s means {clients / ours.rate * 1000:.0f} ms "
          f"per request on average (Little's law); the boto3 client spends {ours.client_cpu_ms:.1f} ms of CPU "
          f"per request under one GIL, so it alone caps a run at ~{1000 / ours.client_cpu_ms:.0f} req/s")
    return ours, moto


def _time_to_first_answer(command: list[str], port: int, env: dict[str, str]) -> float:
    """Seconds from starting ``command`` to its first answered ListBuckets on ``port``."""
    import boto3
    from botocore.config import Config

    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y",
                          config=Config(retries={"max_attempts": 1}, connect_timeout=0.2, read_timeout=5))
    try:
        while True:
            try:
                client.list_buckets()
                return time.perf_counter() - started
            except Exception:
                if proc.poll() is not None or time.perf_counter() - started > 60:
                    raise RuntimeError(f"{command[0]} did not start") from None
                time.sleep(0.01)
    finally:
        proc.terminate()
        proc.wait(30)


def bench_ready(repeat: int = 3) -> None:
    """``scones up`` ready, without and with a model, and moto_server's start for comparison (best of runs)."""
    from scones.testing import tiny_model_tarball

    scones = str(Path(sys.executable).with_name("scones"))
    moto = str(Path(sys.executable).with_name("moto_server"))
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="scones-ready-") as tmp:
        bare, modelled = Path(tmp) / "bare", Path(tmp) / "modelled"
        model = modelled / "store" / "scones" / "model" / "model.tar.gz"
        model.parent.mkdir(parents=True)
        model.write_bytes(tiny_model_tarball())
        for name, home, command in (("scones up, no model", bare, [scones, "up"]),
                                    ("scones up, with a model", modelled, [scones, "up"]),
                                    ("moto_server", bare, [moto])):
            times = []
            for _ in range(repeat):
                port = free_port()
                args = [*command, "--port", str(port)] if command[0] == scones else [*command, "-p", str(port)]
                # A user's Python caches bytecode (the first run writes it).
                env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
                env["SCONES_HOME"] = str(home)
                times.append(_time_to_first_answer(args, port, env))
            figures[name] = min(times)
    print("\nscones up ready (first request answered), best of", repeat)
    for name, seconds in figures.items():
        print(f"  {name:<24} {seconds:6.2f} s")
    print(f"  targets: <= 1.5 s without a model ({'met' if figures['scones up, no model'] <= 1.5 else 'NOT met'}), "
          f"<= 3 s with one ({'met' if figures['scones up, with a model'] <= 3 else 'NOT met'})")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-s3":
        _serve_s3(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=6.0, help="seconds measured per server")
    parser.add_argument("--skip", action="append", default=[], choices=["s3", "sfn", "ready"])
    args = parser.parse_args()
    if "s3" not in args.skip:
        bench_s3(args.clients, args.duration)
    if "sfn" not in args.skip:
        import local_aws_sfn

        print("\nStep Functions: StartExecution -> SUCCEEDED of a 3-state Pass machine")
        local_aws_sfn.main([])
    if "ready" not in args.skip:
        bench_ready()


if __name__ == "__main__":
    main()
