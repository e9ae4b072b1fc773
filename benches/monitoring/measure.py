"""Times ingestion of the prepared Parquet files and the drift page as stored rows grow.

Needs a running Orrery server with the demo workspace (orrery serve --demo) and an API token of
its demo user. Only the Python standard library and pyarrow are used.
"""

import argparse
import json
import pathlib
import statistics
import time
import urllib.error
import urllib.request

import pyarrow.parquet as pq

MODEL = "bench-census"
WORKSPACE = "demo"
CATEGORICAL = ["SCHL", "MAR", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC", "NATIVITY", "DEAR", "DEYE", "DREM", "SEX", "RAC1P"]


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Client:
    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method, path, body=None, content_type="application/json"):
        request = urllib.request.Request(self.url + path, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if body is not None:
            request.add_header("Content-Type", content_type)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=3600) as response:
                data = response.read()
        except urllib.error.HTTPError as error:
            raise SystemExit(f"{method} {path} failed with {error.code}: {error.read().decode(errors='replace')[:500]}")
        return data, time.perf_counter() - started


def schema():
    column = lambda name, kind, role: {"name": name, "kind": kind, "role": role}
    columns = [column("AGEP", "numeric", "feature")]
    columns += [column(name, "categorical", "feature") for name in CATEGORICAL]
    columns += [
        column("prediction", "categorical", "prediction"),
        column("predicted_probability", "numeric", "prediction_score"),
        column("employed", "categorical", "actual"),
    ]
    return {"id_column": "id", "timestamp_column": "ts", "columns": columns}


def ingest(client, path, environment):
    body = path.read_bytes()
    rows = pq.ParquetFile(path).metadata.num_rows
    records = f"/api/v1/workspaces/{WORKSPACE}/models/{MODEL}/versions/v1/environments/{environment}/records?file_name={path.name}"
    data, seconds = client.call("POST", records, body, "application/octet-stream")
    outcome = json.loads(data)
    if outcome.get("rows_ingested") != rows:
        raise SystemExit(f"{path.name}: the server stored {outcome.get('rows_ingested')} of {rows} rows; check its skipped rows: {outcome}")
    # The floor of the same work in this process: pyarrow reading the whole file.
    started = time.perf_counter()
    pq.read_table(path)
    read_seconds = time.perf_counter() - started
    return {"file": path.name, "rows": rows, "bytes": len(body), "seconds": seconds, "rows_per_second": rows / seconds, "pyarrow_read_seconds": read_seconds}


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def page_latency(client, path, calls, warmup):
    for _ in range(warmup):
        client.call("GET", path)
    seconds = [client.call("GET", path)[1] for _ in range(calls)]
    return {"path": path, "calls": calls, "p50_ms": statistics.median(seconds) * 1000, "p95_ms": percentile(seconds, 0.95) * 1000, "max_ms": max(seconds) * 1000}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--data-dir", type=pathlib.Path, required=True, help="folder that prepare.py wrote")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="JSON file to write")
    parser.add_argument("--calls", type=int, default=30, help="timed page loads per measurement (default 30)")
    parser.add_argument("--measure-after", default="1,2,5,10", help="files ingested before each page measurement (default 1,2,5,10)")
    args = parser.parse_args()
    manifest = json.loads((args.data_dir / "manifest.json").read_text())
    client = Client(args.url, args.token)
    checkpoints = sorted({int(item) for item in args.measure_after.split(",") if int(item) <= manifest["production_files"]})

    client.call("POST", f"/api/v1/workspaces/{WORKSPACE}/models", json.dumps({"name": MODEL, "description": "benchmark", "schema": schema()}).encode())
    results = {"manifest": manifest, "ingest": [], "pages": []}
    training = ingest(client, args.data_dir / "reference.parquet", "training")
    log(f"training: {training['rows']:,} rows in {training['seconds']:.2f} s")
    results["ingest"].append({**training, "environment": "training"})

    last_day = f"2018-01-{manifest['days']:02d}"
    week_start = f"2018-01-{manifest['days'] - 6:02d}"
    pages = {
        "drift, whole range": f"/w/{WORKSPACE}/models/{MODEL}?version=v1&baseline=training&from=2018-01-01&to={last_day}",
        "drift, last 7 days": f"/w/{WORKSPACE}/models/{MODEL}?version=v1&baseline=training&from={week_start}&to={last_day}",
        "feature AGEP, whole range": f"/w/{WORKSPACE}/models/{MODEL}/features/AGEP?version=v1&baseline=training&from=2018-01-01&to={last_day}",
    }
    # The reference run: the same page of the demo's census model (about 280,000 rows in 4 buckets).
    reference_page = "/w/demo/models/us-census-employment?version=v1&baseline=training&from=2018-01-01&to=2018-01-01"

    stored = 0
    for index in range(manifest["production_files"]):
        result = ingest(client, args.data_dir / f"production_{index:02d}.parquet", "production")
        stored += result["rows"]
        log(f"production file {index + 1}: {result['rows']:,} rows in {result['seconds']:.2f} s ({result['rows_per_second']:,.0f} rows/s; pyarrow reads it in {result['pyarrow_read_seconds']:.2f} s)")
        results["ingest"].append({**result, "environment": "production", "stored_production_rows": stored})
        if index + 1 in checkpoints:
            reference = page_latency(client, reference_page, args.calls, warmup=3)
            for name, path in pages.items():
                measured = page_latency(client, path, args.calls, warmup=3)
                measured.update(name=name, stored_production_rows=stored, reference_p95_ms=reference["p95_ms"])
                results["pages"].append(measured)
                log(f"{stored:,} rows, {name}: p50 {measured['p50_ms']:.1f} ms, p95 {measured['p95_ms']:.1f} ms (demo page p95 {reference['p95_ms']:.1f} ms)")
    args.out.write_text(json.dumps(results, indent=2))
    log(f"results: {args.out}")


if __name__ == "__main__":
    main()
