"""Writes the monitoring benchmark's Parquet files from the census demo data.

reference.parquet: the 2015 rows (68,785), the model's training data.
production_NN.parquet: FILES files of ROWS rows each, drawn with replacement from the 2018 rows
with numpy's default_rng([seed, file index]). Each row gets a unique id and a timestamp spread
evenly over DAYS days from 2018-01-01, so the rows fall into DAYS daily buckets.
"""

import argparse
import json
import pathlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SOURCE = pathlib.Path(__file__).resolve().parents[2] / "demo-data" / "us_census_ma_employment.parquet"
START_MS = 1_514_764_800_000  # 2018-01-01T00:00:00Z
DAY_MS = 86_400_000
FEATURES = ["AGEP", "SCHL", "MAR", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC", "NATIVITY", "DEAR", "DEYE", "DREM", "SEX", "RAC1P"]
KEEP = ["id", *FEATURES, "prediction", "predicted_probability", "employed"]


def with_time(table, ids, times_ms):
    table = table.set_column(table.schema.get_field_index("id"), "id", pa.array(ids, pa.int64()))
    return table.append_column("ts", pa.array(times_ms, pa.timestamp("ms")))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=pathlib.Path, required=True)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per production file (default 1000000)")
    parser.add_argument("--files", type=int, default=10, help="production files (default 10)")
    parser.add_argument("--days", type=int, default=30, help="days the production rows cover (default 30)")
    parser.add_argument("--seed", type=int, default=2018)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)

    source = pq.read_table(SOURCE)
    years = source.column("year").to_numpy()
    reference = source.filter(pa.array(years == 2015)).select(KEEP)
    pool = source.filter(pa.array(years == 2018)).select(KEEP)
    # Training rows all carry the first day: the baseline is their environment, not a time.
    reference = with_time(reference, np.arange(reference.num_rows), np.full(reference.num_rows, START_MS - DAY_MS))
    pq.write_table(reference, args.out_dir / "reference.parquet")

    total = args.rows * args.files
    for index in range(args.files):
        rng = np.random.default_rng([args.seed, index])
        rows = pool.take(pa.array(rng.integers(0, pool.num_rows, args.rows)))
        first = index * args.rows
        positions = np.arange(first, first + args.rows)
        times = START_MS + positions * (args.days * DAY_MS) // total
        pq.write_table(with_time(rows, positions + 1_000_000_000, times), args.out_dir / f"production_{index:02d}.parquet")

    manifest = {
        "source": SOURCE.name,
        "reference_rows": reference.num_rows,
        "production_files": args.files,
        "rows_per_file": args.rows,
        "days": args.days,
        "seed": args.seed,
        "features": FEATURES,
    }
    (args.out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    print(f"wrote {reference.num_rows:,} reference rows and {args.files} files of {args.rows:,} production rows to {args.out_dir}")


if __name__ == "__main__":
    main()
