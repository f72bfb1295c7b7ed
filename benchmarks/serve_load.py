"""Load test for ``scones serve``: endpoint throughput and latency next to raw ONNX Runtime.

    PYTHONPATH=src .venv/bin/python benchmarks/serve_load.py [--model URI] [--duration 8] [--clients 1,16,64]

In one run it
1. measures the model's raw in-process ONNX Runtime throughput on decoded pixels, over a sweep
   of batch sizes in both layouts (one run over all cores; one single-threaded run per core side
   by side, as the server runs), right before and right after each load level, so a level is
   compared with the machine as it was at that moment (shared machines drift). The endpoint is
   compared with the *best* raw figure of the sweep, whatever batch size and layout gave it;
2. starts the endpoint (``running_endpoint``: a child process, as in production);
3. drives ``POST /endpoints/{name}/invocations`` with PNG bodies from a separate
   client process over loopback, N concurrent keep-alive connections, for a bounded time,
   and prints throughput, p50/p99 latency, errors and the mean batch size per level.

Model: ``--model`` if given; else the trained model at
``.scones/store/scones/model/model.tar.gz`` if present; else a stand-in of realistic
cost, built once and cached: EfficientNet-Lite0 (random weights) behind the
scones input contract (uint8 32x32 NHWC in, resized to ``--standin-size`` inside the
graph). The tiny test model is far too cheap for the ratio to mean anything.
Targets (issue 4), at 16 clients: throughput >= 0.85 x raw, p99 <= 50 ms, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _shared import test_pngs

TRAINED_MODEL = Path(".scones/store/scones/model/model.tar.gz")
ENDPOINT = "bench-endpoint"


# -- model ------------------------------------------------------------------------
def standin_model(size: int, cache_dir: Path) -> Path:
    """EfficientNet-Lite0 (2 classes) with the scones input contract, exported once to ONNX."""
    path = cache_dir / f"standin-efficientnet-lite0-{size}px.tar.gz"
    if path.exists():
        return path
    import io

    import torch
    from efficientnet_lite_pytorch import EfficientNet

    from scones.model_artifact import InputSpec, ModelSpec, write_model_tarball

    torch.manual_seed(0)
    net = EfficientNet.from_name("efficientnet-lite0", num_classes=2).eval()

    class Contract(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255)
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255)

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            x = pixels.permute(0, 3, 1, 2).float()
            x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
            return torch.softmax(self.net((x - self.mean) / self.std), dim=1)

    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(Contract().eval(), (torch.zeros(1, 32, 32, 3, dtype=torch.uint8),), buf,
                          input_names=["pixels"], output_names=["probabilities"], opset_version=17,
                          dynamic_axes={"pixels": {0: "batch"}, "probabilities": {0: "batch"}}, dynamo=False)
    spec = ModelSpec(classes=["bicycle", "motorcycle"], input=InputSpec(height=32, width=32),
                     training={"arch": f"efficientnet-lite0 stand-in, random weights, {size}px inside the graph"})
    write_model_tarball(path, buf.getvalue(), spec)
    return path


def pick_model(args: argparse.Namespace) -> tuple[str, str]:
    if args.model:
        return args.model, f"--model {args.model}"
    if TRAINED_MODEL.exists():
        return str(TRAINED_MODEL), f"trained model {TRAINED_MODEL}"
    from scones.config import Settings

    path = standin_model(args.standin_size, Settings.from_env().cache_dir / "benchmarks")
    return str(path), f"stand-in EfficientNet-Lite0 at {args.standin_size}px ({path})"


# -- raw ONNX Runtime ----------------------------------------------------------------
def raw_throughput(model: str, bodies: list[bytes], batch: int, seconds: float, parallel: int = 1) -> float:
    """Images/s of ONNX Runtime alone: one run at a time over all cores (``parallel`` = 1), or
    ``parallel`` single-threaded runs side by side on one session (how the server runs by default)."""
    import threading

    predictor, pixels = _raw_session(model, tuple(bodies), threads=1 if parallel > 1 else None)
    batches = [pixels[i:i + batch] for i in range(0, len(pixels) - batch + 1, batch)]
    predictor.predict(batches[0])
    done = [0] * parallel

    def loop(n: int, stop_at: float) -> None:
        i = n
        while time.perf_counter() < stop_at:
            predictor.predict(batches[i % len(batches)])
            done[n] += batch
            i += 1

    start, cpu = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=loop, args=(n, start + seconds)) for n in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    label = raw_label(batch, parallel)
    RAW_CPU[label] = (time.process_time() - cpu) / sum(done)
    return sum(done) / (time.perf_counter() - start)


@functools.cache
def _raw_session(model: str, bodies: tuple[bytes, ...], threads: int | None) -> tuple[Any, Any]:
    """One session per thread layout, and the decoded payloads, for the whole run: the sweep
    measures seven configurations before and after every level."""
    import numpy as np

    from scones.model_artifact import load_model
    from scones.serve.images import prepare_image
    from scones.serve.predictor import Predictor

    predictor = Predictor(load_model(model), threads=threads)
    return predictor, np.stack([prepare_image(b, predictor.height, predictor.width) for b in bodies])


def raw_label(batch: int, parallel: int) -> str:
    return f"raw b{batch}" if parallel == 1 else f"raw {parallel}x1t b{batch}"


#: CPU seconds per image of the latest raw measurement, by batch size.
RAW_CPU: dict[str, float] = {}


def process_tree_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and its child processes (Linux /proc)."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1] = ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


# -- the client process ------------------------------------------------------------
async def _client(host: str, port: int, requests: list[bytes], offset: int, stop_at: float,
                  latencies: list[float], errors: list[str]) -> None:
    """One keep-alive connection sending ready-made requests; the client shares the server's cores,
    so it reads each response head in one call instead of line by line."""
    reader, writer = await asyncio.open_connection(host, port)
    i = offset
    clock = time.perf_counter
    try:
        while clock() < stop_at:
            request = requests[i % len(requests)]
            i += 1
            t0 = clock()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            start = head.find(b"\r\ncontent-length:")
            if start < 0:
                start = head.lower().find(b"\r\ncontent-length:")
            length = int(head[start + 17:head.index(b"\r\n", start + 2)]) if start >= 0 else 0
            await reader.readexactly(length)
            latencies.append(clock() - t0)
            if head[9:12] != b"200":
                errors.append(head[9:12].decode("latin-1") or "0")
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        errors.append(type(exc).__name__)
    finally:
        writer.close()


async def _drive(url: str, clients: int, seconds: float, bodies: list[bytes]) -> dict[str, Any]:
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors: list[str] = []
    path = f"/endpoints/{ENDPOINT}/invocations"
    requests = [(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: image/png\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n").encode() + body for body in bodies]
    # Warm the connections and the server for a moment before measuring.
    warm_until = time.perf_counter() + min(1.0, seconds / 4)
    warm: list[float] = []
    await asyncio.gather(*(_client(host, int(port), requests, n * 7, warm_until, warm, errors)
                           for n in range(clients)))
    start = time.perf_counter()
    await asyncio.gather(*(_client(host, int(port), requests, n * 7, start + seconds, latencies, errors)
                           for n in range(clients)))
    elapsed = time.perf_counter() - start
    return {"requests": len(latencies), "requests_total": len(latencies) + len(warm), "elapsed": elapsed,
            "latencies": latencies, "errors": errors}


def client_main(url: str, clients: int, seconds: float) -> None:
    bodies = test_pngs()
    try:  # the lighter event loop, when installed (uvicorn[standard] brings it): less client CPU
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(_drive(url, clients, seconds, bodies))
    lat = sorted(result["latencies"])

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    print(json.dumps({"requests": result["requests"], "requests_total": result["requests_total"],
                      "throughput": result["requests"] / result["elapsed"],
                      "p50_ms": pct(0.50), "p99_ms": pct(0.99), "errors": len(result["errors"]),
                      "error_kinds": sorted(set(result["errors"]))}))


# -- orchestration ---------------------------------------------------------------------
def scrape(url: str) -> dict[str, float]:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    with opener.open(f"{url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith(("scones_batch_size_sum", "scones_batch_size_count")):
            name, value = line.split(" ")
            out[name] = float(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model.tar.gz URI (default: trained model, else a stand-in)")
    parser.add_argument("--standin-size", type=int, default=128, help="input size inside the stand-in graph")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load per client level")
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--raw-seconds", type=float, default=2.5, help="seconds per raw configuration")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (ORT threads split)")
    parser.add_argument("--capture", action="store_true", help="enable Data Capture (to a temp dir) while loading")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # internal: run as the load client against URL
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args.client, args.n, args.duration)
        return

    from scones.serve import running_endpoint
    from scones.serve.config import ServeConfig
    from scones.serve.predictor import available_cpus

    args.max_batch_size = ServeConfig.max_batch_size  # the server's default, which running_endpoint uses
    model, described = pick_model(args)
    bodies = test_pngs()
    levels = [int(c) for c in args.clients.split(",")]
    print(f"model: {described}")
    import os

    print(f"machine: {available_cpus()} CPUs, load average {os.getloadavg()[0]:.1f} at start; "
          f"payloads: {len(bodies)} PNGs (~{sum(map(len, bodies)) // len(bodies)} bytes); "
          f"{args.duration:g} s per level; max batch {args.max_batch_size}; server workers {args.workers}"
          f"{'; Data Capture on' if args.capture else ''}")
    # The best raw figure is the model's on this machine, whatever the server's --workers: one
    # single-threaded run per CPU side by side is in the sweep either way.
    model_runs = available_cpus()
    # Raw sweep: one run over all cores at batch 1 and 16; and, as the server runs, one
    # single-threaded run per core side by side, at every batch size from 1 to 16 in powers of two.
    sweep = sorted({1, 2, 4, 8, 16, args.max_batch_size})
    configs = [(1, 1), (16, 1)] + ([(b, model_runs) for b in sweep] if model_runs > 1 else [])
    sizes = [raw_label(b, p) for b, p in configs]

    def raw_now() -> dict[str, float]:
        return {raw_label(b, p): raw_throughput(model, bodies, b, args.raw_seconds, p) for b, p in configs}

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        capture = str(Path(tmp) / "capture") if args.capture else None
        with running_endpoint(model, endpoint_name=ENDPOINT, capture_dest=capture,
                              workers=args.workers) as ep:
            raw_next = raw_now()
            for clients in levels:
                raw_before = raw_next
                before = scrape(ep.url)
                cpu_before = process_tree_cpu(ep.pid or 0)
                out = subprocess.run([sys.executable, __file__, "--client", ep.url, "--n", str(clients),
                                      "--duration", str(args.duration)], capture_output=True, text=True, check=True)
                after = scrape(ep.url)
                cpu_used = process_tree_cpu(ep.pid or 0) - cpu_before
                row = json.loads(out.stdout.strip().splitlines()[-1])
                images = after["scones_batch_size_sum"] - before["scones_batch_size_sum"]
                runs = after["scones_batch_size_count"] - before["scones_batch_size_count"]
                row["clients"], row["mean_batch"] = clients, images / runs if runs else float("nan")
                # Warm-up traffic is included in the CPU delta; so count its requests as well, approximately.
                row["server_cpu_ms"] = cpu_used / max(1, row["requests_total"]) * 1000
                raw_cpu_before = dict(RAW_CPU)
                raw_next = raw_now()
                row["raw_cpu_ms"] = min((raw_cpu_before[b] + RAW_CPU[b]) / 2 for b in sizes) * 1000
                row["raw"] = {b: (raw_before[b] + raw_next[b]) / 2 for b in sizes}
                row["raw_span"] = {b: (raw_before[b], raw_next[b]) for b in sizes}
                row["best_label"] = max(row["raw"], key=row["raw"].__getitem__)
                row["best"] = row["raw"][row["best_label"]]
                rows.append(row)

    print("\nraw = in-process ONNX Runtime images/s, mean of the measurements just before and after each level"
          "\n(bN: one run at a time over all cores; KxNt bN: K single-threaded runs side by side, "
          "the server's layout):")
    print("\n".join(f"  {label:>14}: " + "  ".join(f"{r['raw'][label]:6.0f}" for r in rows)
                     + f"   (at {', '.join(str(r['clients']) for r in rows)} clients)" for label in sizes))
    print("\n'best raw' = the fastest configuration of that sweep; '/raw' = endpoint req/s over it;"
          "\nCPU ms/req = server process CPU per answered request (all its threads; robust to busy neighbours),"
          " next to raw ONNX Runtime CPU per image (the cheapest raw configuration).")
    print(f"\n{'clients':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'batch':>6} "
          f"{'best raw (before-after)':>34} {'/raw':>6} {'CPU ms/req':>10} {'raw CPU ms/img':>14}")
    for r in rows:
        label = r["best_label"]
        best = f"{r['best']:.0f} ({r['raw_span'][label][0]:.0f}-{r['raw_span'][label][1]:.0f}) {label}"
        print(f"{r['clients']:>7} {r['requests']:>8} {r['throughput']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
              f"{r['errors']:>6} {r['mean_batch']:>6.1f} {best:>34} "
              f"{r['throughput'] / r['best']:>6.2f} {r['server_cpu_ms']:>10.2f} {r['raw_cpu_ms']:>14.2f}"
              + (f"  errors: {r['error_kinds']}" if r["errors"] else ""))
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (above the CPU count, neighbours share the cores "
          f"and every number above moves with them)")
    at16 = next((r for r in rows if r["clients"] == 16), None)
    if at16:
        ratio = at16["throughput"] / at16["best"]
        bound = 16 / at16["best"] * 1000
        verdict = "PASS" if ratio >= 0.85 else "FAIL"
        print(f"\ntargets at 16 clients: throughput/raw = {ratio:.2f} (>= 0.85: {verdict}), "
              f"p99 = {at16['p99_ms']:.1f} ms (<= 50: {'PASS' if at16['p99_ms'] <= 50 else 'FAIL'}), "
              f"errors = {at16['errors']} ({'PASS' if at16['errors'] == 0 else 'FAIL'})")
        print(f"note: with 16 closed-loop clients, mean latency >= 16 / raw throughput = {bound:.1f} ms for this model "
              f"(Little's law), whatever the server does.")


if __name__ == "__main__":
    main()
