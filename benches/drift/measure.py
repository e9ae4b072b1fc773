#!/usr/bin/env python3
"""Time `orrery drift`, Evidently's DataDriftPreset and plain numpy/scipy on the same files.

`measure.py run` reads the manifest.json that prepare.py writes and, for every size and
repeat, starts each tool as a fresh child process on the same reference and current Parquet
files:

- orrery: `orrery drift --reference R --current C --numerical ... --categorical ...
  --format json`, which reads both files and computes every statistic of every column;
- evidently: `measure.py evidently-child`, which reads both files with pandas and runs
  `Report([DataDriftPreset()])` with default settings and a DataDefinition that maps the
  same numerical and categorical columns;
- scipy: `measure.py scipy-child`, which reads both files with pandas and computes the test
  that Evidently 0.7.23 picks by default for each column (see scipy_child below).

For each run it records the wall time from process start to exit and the child's peak
RSS and CPU time from os.wait4, so no other process is counted. The Python children also
report, from inside, how long their imports, the file reads and the computation took. The
"read + compute" time excludes interpreter start-up and imports for the Python tools. For
orrery it is the whole process wall time, so it includes process start-up and file reads.

The parent process imports only the standard library, and the children's heavy imports
happen inside them, so the measurements do not include the parent's memory.

`measure.py run` then prints the table of medians and the agreement of the per-column values,
and writes results.json and results.md to --out-dir.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import resource
import select
import signal
import statistics
import subprocess
import sys
import time

TOOLS = ("orrery", "evidently", "scipy")
TOOL_LABELS = {"orrery": "orrery drift", "evidently": "Evidently 0.7.23 DataDriftPreset", "scipy": "numpy/scipy"}
# A per-column value difference above this between two tools is reported as a mismatch.
AGREEMENT_TOLERANCE = 1e-6
# Evidently 0.7.23 picks a default test by the reference row count, with 1,000 rows as the
# boundary (evidently/legacy/calculations/stattests/registry.py, _get_default_stattest).
EVIDENTLY_SMALL_REFERENCE_ROWS = 1000
# For a numerical column with more than 1,000 reference rows, Evidently uses the normed
# Wasserstein distance when reference and current together have more distinct values than
# this, else the Jensen-Shannon distance (also in _get_default_stattest).
EVIDENTLY_MAX_DISCRETE_NUMERIC_VALUES = 5
# Evidently 0.7.23 divides the Wasserstein distance by max(std of reference, this floor)
# (evidently/legacy/calculations/stattests/wasserstein_distance_norm.py).
WASSERSTEIN_NORM_FLOOR = 0.001
DEFAULT_THRESHOLD = 0.1


# ---- Child processes ------------------------------------------------------------------------


def peak_rss_kib_of_self() -> int:
    # On Linux ru_maxrss is in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def read_frames(args: argparse.Namespace):
    """Read the listed columns of both files; return the column lists and both DataFrames."""
    import pandas as pd

    numerical = args.numerical.split(",") if args.numerical else []
    categorical = args.categorical.split(",") if args.categorical else []
    columns = numerical + categorical
    reference = pd.read_parquet(args.reference, columns=columns)
    current = pd.read_parquet(args.current, columns=columns)
    return numerical, categorical, reference, current


def evidently_child(args: argparse.Namespace) -> None:
    """Run Evidently's default data drift report and write its per-column values as JSON."""
    started = time.perf_counter()
    import pandas as pd  # noqa: F401 (imported here so that the import time is measured)
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    imported = time.perf_counter()
    rss_after_imports = peak_rss_kib_of_self()

    numerical, categorical, reference, current = read_frames(args)
    read_done = time.perf_counter()

    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    report = snapshot.dict()
    computed = time.perf_counter()

    columns = {}
    drifted_count = None
    for metric in report["metrics"]:
        config = metric["config"]
        if config["type"].endswith(":ValueDrift"):
            columns[config["column"]] = {
                "method": config["method"],
                "value": float(metric["value"]),
                "threshold": float(config["threshold"]),
            }
        elif config["type"].endswith(":DriftedColumnsCount"):
            drifted_count = int(metric["value"]["count"])
    write_child_result(args.out, started, imported, read_done, computed, rss_after_imports, columns, drifted_count)


def jensenshannon_of_counts(reference_values, current_values) -> float:
    """Return the Jensen-Shannon distance (natural log) of two samples' value shares.

    Values that occur in only one sample get a share of 0 in the other, as in Evidently.
    """
    import numpy as np
    import pandas as pd
    from scipy.spatial import distance

    codes, uniques = pd.factorize(np.concatenate([reference_values, current_values]))
    n_reference = len(reference_values)
    reference_counts = np.bincount(codes[:n_reference], minlength=len(uniques))
    current_counts = np.bincount(codes[n_reference:], minlength=len(uniques))
    return float(distance.jensenshannon(reference_counts / n_reference, current_counts / len(current_values)))


def scipy_child(args: argparse.Namespace) -> None:
    """Compute Evidently 0.7.23's default drift test per column with numpy and scipy.

    For more than 1,000 reference rows, Evidently picks the Wasserstein distance divided by
    the reference's population standard deviation for a numerical column with more than 5
    distinct values in reference and current together. For categorical columns and for
    numerical columns with at most 5 distinct values, it picks the Jensen-Shannon distance
    of the value shares. Every default threshold is 0.1.
    """
    started = time.perf_counter()
    import numpy as np
    import pandas as pd
    from scipy import stats

    imported = time.perf_counter()
    rss_after_imports = peak_rss_kib_of_self()

    numerical, categorical, reference, current = read_frames(args)
    read_done = time.perf_counter()

    if len(reference) <= EVIDENTLY_SMALL_REFERENCE_ROWS:
        # NOTE: Evidently picks other tests (KS, chi-square, z-test) for this many rows, and
        # this child does not implement them.
        sys.exit(f"scipy-child implements only Evidently's tests for more than {EVIDENTLY_SMALL_REFERENCE_ROWS} reference rows, got {len(reference)}")
    for frame, name in ((reference, args.reference), (current, args.current)):
        if frame.isna().any().any():
            sys.exit(f"{name} has missing values, which scipy-child does not handle as Evidently does")

    columns = {}
    for column in numerical:
        reference_values = reference[column].to_numpy(dtype=np.float64)
        current_values = current[column].to_numpy(dtype=np.float64)
        distinct = len(pd.unique(np.concatenate([reference_values, current_values])))
        if distinct > EVIDENTLY_MAX_DISCRETE_NUMERIC_VALUES:
            norm = max(float(np.std(reference_values)), WASSERSTEIN_NORM_FLOOR)
            value = float(stats.wasserstein_distance(reference_values, current_values)) / norm
            method = "Wasserstein distance (normed)"
        else:
            value = jensenshannon_of_counts(reference_values, current_values)
            method = "Jensen-Shannon distance"
        columns[column] = {"method": method, "value": value, "threshold": DEFAULT_THRESHOLD}
    for column in categorical:
        value = jensenshannon_of_counts(reference[column].to_numpy(), current[column].to_numpy())
        columns[column] = {"method": "Jensen-Shannon distance", "value": value, "threshold": DEFAULT_THRESHOLD}
    computed = time.perf_counter()

    drifted_count = sum(1 for entry in columns.values() if entry["value"] >= entry["threshold"])
    write_child_result(args.out, started, imported, read_done, computed, rss_after_imports, columns, drifted_count)


def write_child_result(out, started, imported, read_done, computed, rss_after_imports, columns, drifted_count) -> None:
    result = {
        "import_s": imported - started,
        "read_s": read_done - imported,
        "compute_s": computed - read_done,
        "rss_after_imports_kib": rss_after_imports,
        "columns": columns,
        "drifted_count": drifted_count,
    }
    pathlib.Path(out).write_text(json.dumps(result, indent=1) + "\n")


# ---- Running one measurement ----------------------------------------------------------------


def run_child(command: list[str], stdout_path: pathlib.Path, stderr_path: pathlib.Path, timeout_s: float) -> dict:
    """Start `command`, wait for it, and return its wall time, peak RSS, CPU time and exit code.

    The child's resource usage comes from os.wait4 on its PID, so only this child and the
    processes it waited for are counted. A child still running after timeout_s gets SIGKILL.
    """
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        pidfd = os.pidfd_open(process.pid)
        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            timed_out = not poller.poll(timeout_s * 1000)
            if timed_out:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            _, status, usage = os.wait4(process.pid, 0)
            wall_s = time.perf_counter() - started
        finally:
            os.close(pidfd)
    # With returncode set, Popen.poll() and Popen.wait() return it and do not reap the PID again.
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": wall_s,
        "peak_rss_kib": usage.ru_maxrss,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "exit_code": process.returncode,
        "timed_out": timed_out,
    }


def orrery_values(stdout_path: pathlib.Path) -> tuple[dict, int]:
    output = json.loads(stdout_path.read_text())
    columns = {}
    for entry in output["columns"]:
        if entry.get("error"):
            raise RuntimeError(f"orrery drift reported an error for column {entry['column']}: {entry['error']}")
        columns[entry["column"]] = {
            "method": entry["method"],
            "value": float(entry["value"]),
            "threshold": float(entry["threshold"]),
            "drift": bool(entry["drift"]),
        }
    return columns, int(output["drifted_columns"])


def measure_once(tool: str, size: int, files: dict, manifest: dict, args: argparse.Namespace, run_dir: pathlib.Path) -> dict:
    numerical = ",".join(manifest["numerical"])
    categorical = ",".join(manifest["categorical"])
    stdout_path = run_dir / "stdout"
    stderr_path = run_dir / "stderr"
    child_json = run_dir / "child.json"
    if tool == "orrery":
        command = [args.orrery, "drift", "--reference", files["reference"], "--current", files["current"]]
        if numerical:
            command += ["--numerical", numerical]
        if categorical:
            command += ["--categorical", categorical]
        command += ["--format", "json"]
    else:
        command = [
            sys.executable, str(pathlib.Path(__file__).resolve()), f"{tool}-child",
            "--reference", files["reference"], "--current", files["current"],
            "--numerical", numerical, "--categorical", categorical, "--out", str(child_json),
        ]
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "command").write_text(" ".join(command) + "\n")
    load_before = os.getloadavg()[0]
    result = run_child(command, stdout_path, stderr_path, args.run_timeout)
    result["load_average_1min_before"] = load_before
    result["tool"] = tool
    result["rows"] = size

    if result["timed_out"] or result["exit_code"] != 0:
        reason = f"timed out after {args.run_timeout} s" if result["timed_out"] else f"exited with code {result['exit_code']}"
        tail = stderr_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{tool} at {size:,} rows {reason}; see {run_dir}. End of its stderr:\n{tail}")

    if tool == "orrery":
        result["columns"], result["drifted_count"] = orrery_values(stdout_path)
        result["read_compute_s"] = result["wall_s"]
    else:
        child = json.loads(child_json.read_text())
        result.update({key: child[key] for key in ("import_s", "read_s", "compute_s", "rss_after_imports_kib", "columns", "drifted_count")})
        result["read_compute_s"] = child["read_s"] + child["compute_s"]
        for entry in result["columns"].values():
            entry["drift"] = entry["value"] >= entry["threshold"]
    return result


# ---- Summaries ------------------------------------------------------------------------------


def median_of(runs: list[dict], key: str):
    values = [run[key] for run in runs if run.get(key) is not None]
    return statistics.median(values) if values else None


def compare_values(left: dict, right: dict) -> dict:
    """Compare two tools' per-column results: the largest value difference, methods and flags."""
    shared = sorted(set(left) & set(right))
    differences = {column: abs(left[column]["value"] - right[column]["value"]) for column in shared}
    worst = max(differences, key=differences.get) if differences else None
    return {
        "columns_compared": len(shared),
        "columns_missing": sorted(set(left) ^ set(right)),
        "max_abs_diff": differences[worst] if worst else None,
        "max_abs_diff_column": worst,
        "columns_above_tolerance": sorted(column for column, diff in differences.items() if diff > AGREEMENT_TOLERANCE),
        "method_mismatches": sorted(column for column in shared if left[column]["method"] != right[column]["method"]),
        "drift_flag_mismatches": sorted(column for column in shared if left[column]["drift"] != right[column]["drift"]),
    }


def repeat_spread(runs: list[dict]) -> float:
    """Return the largest difference of any column's value between repeats of one tool."""
    spread = 0.0
    for run in runs[1:]:
        for column, entry in run["columns"].items():
            spread = max(spread, abs(entry["value"] - runs[0]["columns"][column]["value"]))
    return spread


def summarize(size: int, runs_by_tool: dict) -> dict:
    summary = {"rows": size, "tools": {}, "agreement": {}}
    for tool, runs in runs_by_tool.items():
        summary["tools"][tool] = {
            "repeats": len(runs),
            "median_read_compute_s": median_of(runs, "read_compute_s"),
            "median_wall_s": median_of(runs, "wall_s"),
            "median_cpu_s": median_of(runs, "cpu_s"),
            "median_peak_rss_kib": median_of(runs, "peak_rss_kib"),
            "median_import_s": median_of(runs, "import_s"),
            "median_rss_after_imports_kib": median_of(runs, "rss_after_imports_kib"),
            "drifted_count": runs[0]["drifted_count"],
            "max_value_spread_between_repeats": repeat_spread(runs),
        }
    for left, right in (("orrery", "evidently"), ("orrery", "scipy"), ("evidently", "scipy")):
        if runs_by_tool.get(left) and runs_by_tool.get(right):
            summary["agreement"][f"{left}_vs_{right}"] = compare_values(runs_by_tool[left][0]["columns"], runs_by_tool[right][0]["columns"])
    orrery = summary["tools"].get("orrery")
    evidently = summary["tools"].get("evidently")
    if orrery and evidently:
        summary["evidently_over_orrery_read_compute"] = evidently["median_read_compute_s"] / orrery["median_read_compute_s"]
        summary["evidently_over_orrery_wall"] = evidently["median_wall_s"] / orrery["median_wall_s"]
        summary["orrery_over_evidently_peak_rss"] = orrery["median_peak_rss_kib"] / evidently["median_peak_rss_kib"]
    return summary


def format_table(summaries: list[dict], markdown: bool) -> str:
    header = [
        "rows per side", "tool", "runs", "read + compute s", "process wall s", "CPU s", "peak RSS MiB",
        "Evidently/orrery read + compute", "Evidently/orrery process wall", "orrery/Evidently RSS",
    ]
    rows = []
    for summary in summaries:
        for tool in TOOLS:
            numbers = summary["tools"].get(tool)
            if numbers is None:
                continue
            is_orrery = tool == "orrery" and "evidently_over_orrery_read_compute" in summary
            rows.append([
                f"{summary['rows']:,}",
                TOOL_LABELS[tool],
                str(numbers["repeats"]),
                f"{numbers['median_read_compute_s']:.3f}",
                f"{numbers['median_wall_s']:.3f}",
                f"{numbers['median_cpu_s']:.3f}",
                f"{numbers['median_peak_rss_kib'] / 1024:.1f}",
                f"{summary['evidently_over_orrery_read_compute']:.1f}x" if is_orrery else "",
                f"{summary['evidently_over_orrery_wall']:.1f}x" if is_orrery else "",
                f"{summary['orrery_over_evidently_peak_rss']:.3f}" if is_orrery else "",
            ])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def format_agreement(summaries: list[dict]) -> list[str]:
    lines = []
    for summary in summaries:
        for pair, comparison in summary["agreement"].items():
            verdict = "MISMATCH" if comparison["columns_above_tolerance"] or comparison["method_mismatches"] or comparison["drift_flag_mismatches"] or comparison["columns_missing"] else "agree"
            line = (
                f"{summary['rows']:>9,} rows  {pair.replace('_vs_', ' vs '):<20} max |diff| {comparison['max_abs_diff']:.3e}"
                f" ({comparison['max_abs_diff_column']}) over {comparison['columns_compared']} columns: {verdict}"
            )
            for key, label in (
                ("columns_above_tolerance", f"above {AGREEMENT_TOLERANCE:g}"),
                ("method_mismatches", "different method"),
                ("drift_flag_mismatches", "different drift flag"),
                ("columns_missing", "in one tool only"),
            ):
                if comparison[key]:
                    line += f"; {label}: {', '.join(comparison[key])}"
            lines.append(line)
        counts = ", ".join(f"{tool} {numbers['drifted_count']}" for tool, numbers in summary["tools"].items())
        spreads = ", ".join(f"{tool} {numbers['max_value_spread_between_repeats']:.1e}" for tool, numbers in summary["tools"].items())
        lines.append(f"{summary['rows']:>9,} rows  drifted columns: {counts}; largest change between repeats: {spreads}")
    return lines


def format_targets(summaries: list[dict], target_rows: int, min_speedup: float, max_memory_share: float) -> list[str]:
    target = next((summary for summary in summaries if summary["rows"] == target_rows and "evidently_over_orrery_read_compute" in summary), None)
    if target is None:
        return [f"targets: no orrery and Evidently results at {target_rows:,} rows"]
    speedup = target["evidently_over_orrery_read_compute"]
    memory_share = target["orrery_over_evidently_peak_rss"]
    return [
        f"target at {target_rows:,} rows: orrery at least {min_speedup:g}x faster than Evidently (read + compute): "
        f"{speedup:.1f}x, {'met' if speedup >= min_speedup else 'NOT met'}",
        f"target at {target_rows:,} rows: orrery peak RSS at most {max_memory_share:g} of Evidently's: "
        f"{memory_share:.3f}, {'met' if memory_share <= max_memory_share else 'NOT met'}",
    ]


# ---- The run command ------------------------------------------------------------------------


def package_versions() -> dict:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in ("evidently", "numpy", "scipy", "pandas", "pyarrow"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def repeats_for(size: int, args: argparse.Namespace) -> int:
    return args.repeats_large if size >= args.large_from else args.repeats


def run(args: argparse.Namespace) -> None:
    manifest = json.loads(args.manifest.read_text())
    files_by_size = {}
    for entry in manifest["files"]:
        files_by_size.setdefault(entry["rows"], {})[entry["side"]] = entry["path"]
    sizes = sorted(files_by_size)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    runs_dir = args.out_dir / "runs"
    notes = []
    started = time.monotonic()
    deadline = started + args.time_budget

    def log(message: str) -> None:
        print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    if not args.no_warm_up:
        # One untimed run of each tool on the smallest files, so that the first timed run
        # does not pay for cold page-cache reads of the binary, the libraries and .pyc files.
        for tool in TOOLS:
            log(f"warm-up: {tool} at {sizes[0]:,} rows (not counted)")
            measure_once(tool, sizes[0], files_by_size[sizes[0]], manifest, args, runs_dir / f"warm-up-{tool}")

    all_runs = []
    summaries = []
    load_start = os.getloadavg()
    for size in sizes:
        runs_by_tool = {tool: [] for tool in TOOLS}
        requested = repeats_for(size, args)
        skipped = set()
        for repeat in range(requested):
            # Tools alternate within each repeat, so a slow spell on the machine affects all three.
            for tool in TOOLS:
                if tool in skipped:
                    continue
                if repeat > 0:
                    remaining = deadline - time.monotonic()
                    last_wall = runs_by_tool[tool][-1]["wall_s"]
                    if last_wall > remaining:
                        skipped.add(tool)
                        note = (
                            f"{TOOL_LABELS[tool]} at {size:,} rows: {repeat} repeat(s) instead of {requested}, because its last "
                            f"run took {last_wall:.0f} s and {max(remaining, 0):.0f} s of the {args.time_budget:.0f} s budget were left"
                        )
                        notes.append(note)
                        log(note)
                        continue
                log(f"{tool} at {size:,} rows, repeat {repeat + 1} of {requested}")
                result = measure_once(tool, size, files_by_size[size], manifest, args, runs_dir / f"{size}-{tool}-{repeat + 1}")
                result["repeat"] = repeat + 1
                log(
                    f"  wall {result['wall_s']:.3f} s, read + compute {result['read_compute_s']:.3f} s, CPU {result['cpu_s']:.3f} s, "
                    f"peak RSS {result['peak_rss_kib'] / 1024:.1f} MiB, 1-minute load average before {result['load_average_1min_before']:.2f}"
                )
                runs_by_tool[tool].append(result)
                all_runs.append(result)
        summaries.append(summarize(size, runs_by_tool))
    load_end = os.getloadavg()
    elapsed = time.monotonic() - started

    table = format_table(summaries, markdown=False)
    agreement = format_agreement(summaries)
    targets = format_targets(summaries, args.target_rows, args.target_speedup, args.target_memory_share)
    explanation = [
        "Times are medians over the runs; peak RSS is the median of each run's peak RSS (os.wait4 ru_maxrss).",
        "read + compute: orrery's whole process wall time (start-up, reading both files, all statistics); for the",
        "Python tools the time from before reading both files with pandas to having every column's value, without",
        "interpreter start-up and imports. process wall: the child process from start to exit, imports included.",
        "The time ratios divide Evidently's median by orrery's; the memory ratio divides orrery's peak RSS by Evidently's.",
        "orrery computes every statistic of every column (PSI, Jensen-Shannon, Wasserstein, KS, chi-square, z-test);",
        "Evidently and numpy/scipy compute only the default one. Evidently's Report.run also builds the report's widgets.",
        f"1-minute load average: {load_start[0]:.2f} at the start of the timed runs, {load_end[0]:.2f} at the end.",
    ]
    print()
    print(table)
    print()
    print("\n".join(explanation))
    print()
    print(f"Agreement of per-column default drift values (first run of each tool, tolerance {AGREEMENT_TOLERANCE:g}):")
    print("\n".join(agreement))
    print()
    print("\n".join(targets))
    for note in notes:
        print(f"note: {note}")
    print(f"measurements took {elapsed:.0f} s")

    results = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": json.loads(args.machine.read_text()) if args.machine else None,
        "packages": package_versions(),
        "orrery_binary": args.orrery,
        "manifest": manifest,
        "settings": {
            "repeats": args.repeats, "repeats_large": args.repeats_large, "large_from": args.large_from,
            "time_budget_s": args.time_budget, "run_timeout_s": args.run_timeout, "warm_up": not args.no_warm_up,
            "agreement_tolerance": AGREEMENT_TOLERANCE,
        },
        "load_average_start": load_start,
        "load_average_end": load_end,
        "measurement_seconds": elapsed,
        "notes": notes,
        "targets": targets,
        "summaries": summaries,
        "runs": all_runs,
    }
    (args.out_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    markdown = [
        "# orrery drift vs Evidently vs numpy/scipy",
        "",
        format_table(summaries, markdown=True),
        "",
        *explanation,
        "",
        f"Agreement (tolerance {AGREEMENT_TOLERANCE:g}):",
        "",
        *[f"- {line.strip()}" for line in agreement],
        "",
        *[f"- {line}" for line in targets],
        *[f"- note: {note}" for note in notes],
    ]
    (args.out_dir / "results.md").write_text("\n".join(markdown) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="measure all tools at every size in the manifest")
    run_parser.add_argument("--manifest", type=pathlib.Path, required=True, help="manifest.json written by prepare.py")
    run_parser.add_argument("--orrery", required=True, help="path of the orrery binary")
    run_parser.add_argument("--out-dir", type=pathlib.Path, required=True, help="folder for results.json, results.md and each run's output")
    run_parser.add_argument("--machine", type=pathlib.Path, help="JSON file with machine details to copy into results.json")
    run_parser.add_argument("--repeats", type=int, default=3, help="runs per tool for sizes below --large-from (default 3)")
    run_parser.add_argument("--repeats-large", type=int, default=3, help="runs per tool from --large-from rows on (default 3)")
    run_parser.add_argument("--large-from", type=int, default=1_000_000, help="rows per side from which --repeats-large applies (default 1000000)")
    run_parser.add_argument("--time-budget", type=float, default=1200, help="seconds for all timed runs. A repeat after the first is skipped when the tool's last run took longer than what is left (default 1200)")
    run_parser.add_argument("--run-timeout", type=float, default=900, help="seconds after which one run is killed and the benchmark fails (default 900)")
    run_parser.add_argument("--no-warm-up", action="store_true", help="skip the untimed warm-up run of each tool")
    run_parser.add_argument("--target-rows", type=int, default=1_000_000, help="size at which the targets are checked (default 1000000)")
    run_parser.add_argument("--target-speedup", type=float, default=100, help="minimum Evidently/orrery ratio of the read + compute times (default 100)")
    run_parser.add_argument("--target-memory-share", type=float, default=1 / 8, help="maximum orrery/Evidently peak RSS ratio (default 0.125)")
    run_parser.set_defaults(handler=run)

    for name, handler in (("evidently-child", evidently_child), ("scipy-child", scipy_child)):
        child_parser = commands.add_parser(name, help="one measured run, started by `run`")
        child_parser.add_argument("--reference", required=True)
        child_parser.add_argument("--current", required=True)
        child_parser.add_argument("--numerical", default="")
        child_parser.add_argument("--categorical", default="")
        child_parser.add_argument("--out", required=True, help="JSON file for the timings and per-column values")
        child_parser.set_defaults(handler=handler)

    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
