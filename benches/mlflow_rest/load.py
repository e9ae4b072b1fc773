#!/usr/bin/env python3
"""Load script for the MLflow REST API 2.0, run unchanged against Orrery and MLflow.

`load.py measure` drives one server and writes its numbers as JSON:

1. log-batch throughput: metric points per second, 1,000 metrics per request, sent by
   several client threads to several runs;
2. runs/search latency with 2,000 and then 10,000 runs in one experiment;
3. metrics/get-history latency for one metric of 10,000 points.

`load.py report` reads the JSON of both servers, prints a table with the ratio
Orrery/MLflow, and writes the same table as Markdown.

Only the standard library is used. Each client thread keeps one HTTP/1.1 keep-alive
connection, so the numbers measure the servers rather than connection setup.
"""

import argparse
import concurrent.futures
import datetime
import http.client
import json
import math
import platform
import random
import statistics
import sys
import threading
import time
import urllib.parse

API = "/api/2.0/mlflow"
METRICS_PER_REQUEST = 1000
# A request body's metrics are METRIC_KEYS keys times METRICS_PER_REQUEST / METRIC_KEYS steps.
METRIC_KEYS = 10
SEARCH_FILTER = 'metrics.rmse < 0.5 and params.model = "xgb"'
SEARCH_ORDER = "metrics.rmse ASC"
SEARCH_MAX_RESULTS = 100
MODELS = ("xgb", "lgbm", "rf")
# Reconnect before reusing a connection idle for longer than this, because uvicorn closes
# idle keep-alive connections after 5 s and a request sent on a closed one fails.
MAX_IDLE_SECONDS = 2.0
BASE_TIMESTAMP_MS = 1_700_000_000_000
# The statuses the MLflow Python client 3.17 retries (mlflow/utils/request_utils.py), by
# default 7 times (MLFLOW_HTTP_REQUEST_MAX_RETRIES) with a backoff factor of 2 s.
TRANSIENT_STATUSES = frozenset([408, 429, 500, 502, 503, 504])


class RequestFailed(Exception):
    pass


class Client:
    """One keep-alive HTTP connection to the server; not shared between threads."""

    def __init__(self, base_url, token, timeout, max_retries, retries):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme != "http" or not parsed.hostname or not parsed.port:
            raise ValueError(f"--url must look like http://127.0.0.1:PORT, not {base_url!r}")
        self.host = parsed.hostname
        self.port = parsed.port
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.connection = None
        self.last_used = 0.0
        self.max_retries = max_retries
        self.retries = retries

    def _connection(self):
        idle = time.monotonic() - self.last_used
        if self.connection is not None and idle > MAX_IDLE_SECONDS:
            self.connection.close()
            self.connection = None
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.connection

    def send(self, method, path, body=None):
        """Send one request and return (status, raw body, seconds from send to last byte)."""
        connection = self._connection()
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=self.headers)
            response = connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            connection.close()
            self.connection = None
            raise
        elapsed = time.perf_counter() - started
        self.last_used = time.monotonic()
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            self.connection = None
        return response.status, data, elapsed

    def call(self, method, endpoint, payload=None, query=None):
        """Call an API endpoint and return (decoded JSON, seconds including retries).

        Like the MLflow Python client, a request answered with a transient status (408, 429,
        500, 502, 503 or 504) is sent again, here up to `max_retries` times after 0.05, 0.1, 0.2 … s. Every retry is
        counted in `retries`, so the results show how often a server failed a request.
        """
        path = API + endpoint
        if query:
            path += "?" + urllib.parse.urlencode(query)
        body = payload if isinstance(payload, bytes) or payload is None else json.dumps(payload).encode()
        total = 0.0
        for attempt in range(self.max_retries + 1):
            status, data, elapsed = self.send(method, path, body)
            total += elapsed
            if status not in TRANSIENT_STATUSES or attempt == self.max_retries:
                break
            self.retries.record(endpoint, status, data)
            pause = 0.05 * 2**attempt
            time.sleep(pause)
            total += pause
        if status != 200:
            raise RequestFailed(f"{method} {path} returned HTTP {status}: {data[:500].decode(errors='replace')}")
        return (json.loads(data) if data else {}), total


class RetryLog:
    """Counts of retried requests per endpoint and status, shared by all client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.first_messages = {}

    def record(self, endpoint, status, data):
        key = f"{endpoint} HTTP {status}"
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.first_messages.setdefault(key, data[:300].decode(errors="replace"))

    def take(self):
        """Return the counts and first response bodies since the last call, and reset them."""
        with self.lock:
            taken = {"counts": self.counts, "first_messages": self.first_messages}
            self.counts = {}
            self.first_messages = {}
        return taken


class ClientPool:
    """One Client per thread, all pointing at the same server."""

    def __init__(self, base_url, token, timeout, max_retries):
        self.base_url = base_url
        self.token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.retries = RetryLog()
        self.local = threading.local()

    def get(self):
        if not hasattr(self.local, "client"):
            self.local.client = Client(self.base_url, self.token, self.timeout, self.max_retries, self.retries)
        return self.local.client


def percentile(values, fraction):
    """Nearest-rank percentile: the smallest value with at least `fraction` of values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_summary(seconds):
    milliseconds = [value * 1000 for value in seconds]
    return {
        "calls": len(milliseconds),
        "p50_ms": percentile(milliseconds, 0.50),
        "p95_ms": percentile(milliseconds, 0.95),
        "mean_ms": statistics.fmean(milliseconds),
        "min_ms": min(milliseconds),
        "max_ms": max(milliseconds),
    }


def log(message):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def create_experiment(client, name):
    body, _ = client.call("POST", "/experiments/create", {"name": name})
    return body["experiment_id"]


def create_run(client, experiment_id, name):
    body, _ = client.call(
        "POST",
        "/runs/create",
        {"experiment_id": experiment_id, "run_name": name, "start_time": BASE_TIMESTAMP_MS},
    )
    return body["run"]["info"]["run_id"]


# ---- 1. log-batch throughput --------------------------------------------------------------


def throughput_body(run_id, batch_index):
    """A log-batch body with METRICS_PER_REQUEST points: METRIC_KEYS keys over consecutive steps."""
    steps_per_request = METRICS_PER_REQUEST // METRIC_KEYS
    metrics = []
    for position in range(METRICS_PER_REQUEST):
        step = batch_index * steps_per_request + position // METRIC_KEYS
        metrics.append(
            {
                "key": f"metric_{position % METRIC_KEYS}",
                "value": 1.0 / (1 + step) + (position % METRIC_KEYS) * 0.001,
                "timestamp": BASE_TIMESTAMP_MS + step,
                "step": step,
            }
        )
    return json.dumps({"run_id": run_id, "metrics": metrics}).encode()


def measure_throughput(pool, points, runs, threads):
    client = pool.get()
    experiment_id = create_experiment(client, "bench-log-batch")
    run_ids = [create_run(client, experiment_id, f"throughput-{index}") for index in range(runs)]
    warmup_run = create_run(client, experiment_id, "throughput-warmup")
    requests = points // METRICS_PER_REQUEST
    # Bodies are encoded before the clock starts, so client-side JSON encoding is not timed.
    bodies = [throughput_body(run_ids[index % runs], index // runs) for index in range(requests)]
    warmup = [throughput_body(warmup_run, index) for index in range(threads * 2)]

    def post(body):
        _, elapsed = pool.get().call("POST", "/runs/log-batch", body)
        return elapsed

    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as executor:
        list(executor.map(post, warmup))
        log(f"log-batch: sending {requests} requests of {METRICS_PER_REQUEST} points to {runs} runs from {threads} threads")
        started = time.perf_counter()
        latencies = list(executor.map(post, bodies))
        wall_seconds = time.perf_counter() - started

    # Read back one run's history so a server that drops points cannot look fast.
    expected_per_key = (requests // runs + (1 if requests % runs else 0)) * (METRICS_PER_REQUEST // METRIC_KEYS)
    history, _ = client.call("GET", "/metrics/get-history", query={"run_id": run_ids[0], "metric_key": "metric_0"})
    stored = len(history.get("metrics", []))
    if stored != expected_per_key:
        raise RequestFailed(f"run {run_ids[0]} has {stored} points of metric_0 after log-batch; expected {expected_per_key}")

    result = {
        "points": requests * METRICS_PER_REQUEST,
        "requests": requests,
        "runs": runs,
        "threads": threads,
        "seconds": wall_seconds,
        "points_per_second": requests * METRICS_PER_REQUEST / wall_seconds,
        "request_latency": latency_summary(latencies),
    }
    log(f"log-batch: {result['points_per_second']:,.0f} points/s over {wall_seconds:.1f} s")
    return result


# ---- 2. runs/search latency ---------------------------------------------------------------


def search_run_data(index):
    """Params and metrics of search run `index`, the same on every server."""
    rng = random.Random(f"search-run-{index}")
    rmse = round(rng.random(), 6)
    params = {
        "model": rng.choice(MODELS),
        "learning_rate": str(round(rng.uniform(0.01, 0.3), 3)),
        "max_depth": str(rng.randint(2, 12)),
        "seed": str(index),
    }
    metrics = {"rmse": rmse, "mae": round(rmse * 0.8, 6), "r2": round(1 - rmse, 6)}
    return params, metrics


def create_search_runs(pool, experiment_id, first, last, threads):
    """Create runs first..last-1 through runs/create and runs/log-batch; return runs per second."""

    def create(index):
        client = pool.get()
        run_id = create_run(client, experiment_id, f"search-{index}")
        params, metrics = search_run_data(index)
        client.call(
            "POST",
            "/runs/log-batch",
            {
                "run_id": run_id,
                "params": [{"key": key, "value": value} for key, value in params.items()],
                "metrics": [
                    {"key": key, "value": value, "timestamp": BASE_TIMESTAMP_MS, "step": 0} for key, value in metrics.items()
                ],
            },
        )

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as executor:
        list(executor.map(create, range(first, last)))
    seconds = time.perf_counter() - started
    log(f"search: created runs {first} to {last - 1} in {seconds:.1f} s ({(last - first) / seconds:,.0f} runs/s)")
    return {"runs_created": last - first, "seconds": seconds, "runs_per_second": (last - first) / seconds}


def expected_search_rmse(run_count):
    """The rmse values a correct search returns, in order."""
    matching = []
    for index in range(run_count):
        params, metrics = search_run_data(index)
        if params["model"] == "xgb" and metrics["rmse"] < 0.5:
            matching.append(metrics["rmse"])
    return sorted(matching)[:SEARCH_MAX_RESULTS]


def check_search_answer(body, run_count):
    runs = body.get("runs", [])
    values = []
    for run in runs:
        metrics = {metric["key"]: metric["value"] for metric in run["data"].get("metrics", [])}
        params = {param["key"]: param["value"] for param in run["data"].get("params", [])}
        if params.get("model") != "xgb":
            raise RequestFailed(f"search returned run {run['info']['run_id']} with model {params.get('model')!r}")
        values.append(metrics.get("rmse"))
    expected = expected_search_rmse(run_count)
    if values != expected:
        raise RequestFailed(
            f"search over {run_count} runs returned rmse values {values[:5]}… ({len(values)} runs); expected {expected[:5]}… ({len(expected)} runs)"
        )
    return len(runs)


def measure_search(pool, experiment_id, run_count, calls, warmup_calls):
    client = pool.get()
    payload = json.dumps(
        {
            "experiment_ids": [experiment_id],
            "filter": SEARCH_FILTER,
            "order_by": [SEARCH_ORDER],
            "max_results": SEARCH_MAX_RESULTS,
        }
    ).encode()
    body, _ = client.call("POST", "/runs/search", payload)
    returned = check_search_answer(body, run_count)
    for _ in range(warmup_calls):
        client.call("POST", "/runs/search", payload)
    latencies = [client.call("POST", "/runs/search", payload)[1] for _ in range(calls)]
    result = {"runs_in_experiment": run_count, "runs_returned": returned, **latency_summary(latencies)}
    log(f"search over {run_count} runs: p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms")
    return result


# ---- 3. metrics/get-history latency -------------------------------------------------------


def measure_history(pool, points, calls, warmup_calls):
    client = pool.get()
    experiment_id = create_experiment(client, "bench-history")
    run_id = create_run(client, experiment_id, "history")
    for first in range(0, points, METRICS_PER_REQUEST):
        metrics = [
            {"key": "loss", "value": 1.0 / (1 + step), "timestamp": BASE_TIMESTAMP_MS + step, "step": step}
            for step in range(first, min(points, first + METRICS_PER_REQUEST))
        ]
        client.call("POST", "/runs/log-batch", {"run_id": run_id, "metrics": metrics})
    query = {"run_id": run_id, "metric_key": "loss"}
    for _ in range(warmup_calls):
        client.call("GET", "/metrics/get-history", query=query)
    latencies = []
    for _ in range(calls):
        body, elapsed = client.call("GET", "/metrics/get-history", query=query)
        returned = len(body.get("metrics", []))
        if returned != points:
            raise RequestFailed(f"get-history returned {returned} points; expected {points}")
        latencies.append(elapsed)
    result = {"points": points, **latency_summary(latencies)}
    log(f"get-history of {points} points: p50 {result['p50_ms']:.1f} ms")
    return result


def with_retries(pool, result):
    """Attach the retries of the phase that produced `result`."""
    result["retries"] = pool.retries.take()
    return result


def measure(args):
    pool = ClientPool(args.url, args.token, args.timeout, args.max_retries)
    started = time.time()
    result = {
        "server": args.label,
        "server_version": args.server_version,
        "url": args.url,
        "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "client_python": platform.python_version(),
        "write": with_retries(pool, measure_throughput(pool, args.points, args.runs, args.threads)),
        "history": with_retries(pool, measure_history(pool, args.history_points, args.history_calls, warmup_calls=3)),
        "search": [],
        "search_setup": [],
    }
    experiment_id = create_experiment(pool.get(), "bench-search")
    created = 0
    for run_count in args.search_runs:
        if run_count < created:
            raise ValueError("--search-runs must be in increasing order")
        setup = create_search_runs(pool, experiment_id, created, run_count, args.threads)
        result["search_setup"].append(with_retries(pool, setup))
        created = run_count
        search = measure_search(pool, experiment_id, run_count, args.search_calls, warmup_calls=5)
        result["search"].append(with_retries(pool, search))
    result["total_seconds"] = time.time() - started
    with open(args.out, "w") as file:
        json.dump(result, file, indent=2)
    log(f"{args.label}: results written to {args.out}")


# ---- report -------------------------------------------------------------------------------


def report_rows(orrery, mlflow):
    """(measurement, unit, Orrery value, MLflow value, better direction) for every number."""
    write = "log-batch throughput, {:,} points, {} threads".format(orrery["write"]["points"], orrery["write"]["threads"])
    rows = [(write, "points/s", orrery["write"]["points_per_second"], mlflow["write"]["points_per_second"], "higher")]
    for ours, theirs in zip(orrery["search"], mlflow["search"]):
        runs = ours["runs_in_experiment"]
        rows.append((f"runs/search p50, {runs:,} runs", "ms", ours["p50_ms"], theirs["p50_ms"], "lower"))
        rows.append((f"runs/search p95, {runs:,} runs", "ms", ours["p95_ms"], theirs["p95_ms"], "lower"))
    history = "metrics/get-history p50, {:,} points".format(orrery["history"]["points"])
    rows.append((history, "ms", orrery["history"]["p50_ms"], mlflow["history"]["p50_ms"], "lower"))
    rows.append(
        (
            "search setup: runs/create + log-batch, {} threads".format(orrery["write"]["threads"]),
            "runs/s",
            creation_rate(orrery),
            creation_rate(mlflow),
            "higher",
        )
    )
    return rows


def creation_rate(result):
    runs = sum(setup["runs_created"] for setup in result["search_setup"])
    seconds = sum(setup["seconds"] for setup in result["search_setup"])
    return runs / seconds


def retry_lines(result):
    """One line per phase and endpoint whose requests the server failed and the client resent."""
    phases = [("log-batch throughput", result["write"]), ("get-history", result["history"])]
    for setup, search in zip(result["search_setup"], result["search"]):
        runs = search["runs_in_experiment"]
        phases += [(f"search setup up to {runs:,} runs", setup), (f"search at {runs:,} runs", search)]
    lines = []
    for phase, data in phases:
        retries = data.get("retries", {})
        for key, count in retries.get("counts", {}).items():
            message = retries["first_messages"][key].replace("\n", " ")
            lines.append(f"{result['server']}, {phase}: {count:,} retries of {key}; first body: {message}")
    return lines


def format_number(value):
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_ratio(ours, theirs):
    ratio = ours / theirs
    return f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.3g}"


def report(args):
    with open(args.orrery) as file:
        orrery = json.load(file)
    with open(args.mlflow) as file:
        mlflow = json.load(file)
    rows = report_rows(orrery, mlflow)

    header = ("measurement", "unit", "Orrery", "MLflow", "Orrery/MLflow", "better")
    table = [header] + [
        (name, unit, format_number(ours), format_number(theirs), format_ratio(ours, theirs), direction)
        for name, unit, ours, theirs, direction in rows
    ]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    lines = []
    for number, row in enumerate(table):
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])] + [
            cell.rjust(width) for cell, width in zip(row[2:5], widths[2:5])
        ] + [row[5].ljust(widths[5])]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    retries = retry_lines(orrery) + retry_lines(mlflow)
    lines.append("")
    lines += retries or ["No request was answered with a transient status (408, 429, 500, 502, 503, 504)."]
    print("\n".join(lines))

    markdown = ["| " + " | ".join(header) + " |", "|---|---|---:|---:|---:|---|"]
    markdown += ["| " + " | ".join(row) + " |" for row in table[1:]]
    markdown.append("")
    markdown += [f"- {line}" for line in retries] or ["No request was answered with a transient status."]
    with open(args.markdown, "w") as file:
        file.write("\n".join(markdown) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("measure", help="measure one server and write its numbers as JSON")
    run.add_argument("--url", required=True, help="server base URL, such as http://127.0.0.1:5000")
    run.add_argument("--token", default="", help="API token sent as 'Authorization: Bearer'; empty sends none")
    run.add_argument("--label", required=True, help="server name written into the results, such as Orrery")
    run.add_argument("--server-version", default="", help="version text written into the results")
    run.add_argument("--out", required=True, help="JSON file to write")
    run.add_argument("--threads", type=int, default=4, help="client threads for log-batch and run creation (default 4)")
    run.add_argument("--points", type=int, default=1_000_000, help="metric points sent in the throughput test (default 1000000)")
    run.add_argument("--runs", type=int, default=10, help="runs the throughput test spreads its points over (default 10)")
    run.add_argument(
        "--search-runs",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[2000, 10000],
        help="comma-separated run counts at which to measure runs/search (default 2000,10000)",
    )
    run.add_argument("--search-calls", type=int, default=100, help="timed runs/search calls per run count (default 100)")
    run.add_argument("--history-points", type=int, default=10_000, help="points of the metric read back (default 10000)")
    run.add_argument("--history-calls", type=int, default=30, help="timed metrics/get-history calls (default 30)")
    run.add_argument(
        "--max-retries",
        type=int,
        default=7,
        help="times a request answered with a transient status is sent again, 7 as in the MLflow client; 0 fails at once (default 7)",
    )
    run.add_argument("--timeout", type=float, default=600, help="seconds to wait for one response (default 600)")

    compare = commands.add_parser("report", help="print and write the comparison table of two result files")
    compare.add_argument("--orrery", required=True, help="JSON written by 'measure' for Orrery")
    compare.add_argument("--mlflow", required=True, help="JSON written by 'measure' for MLflow")
    compare.add_argument("--markdown", required=True, help="Markdown file to write the table to")

    args = parser.parse_args()
    if args.command == "measure":
        if args.points % METRICS_PER_REQUEST:
            parser.error(f"--points must be a multiple of {METRICS_PER_REQUEST}")
        measure(args)
    else:
        report(args)


if __name__ == "__main__":
    main()
