#!/usr/bin/env python3
"""Write the reference and current Parquet files that benches/drift/measure.py compares.

The source is demo-data/us_census_ma_employment.parquet. The reference side is drawn from
its rows with year 2015 and the current side from its rows with year 2018 (68,785 and
70,131 rows in that file). Each side is resampled with replacement to every requested size
with a seeded numpy generator, so a run with the same seed writes the same files.

The columns and their types come from the golden drift fixture that the project's tests
use (meta.numerical and meta.categorical), and the files hold only those columns. The
script also writes manifest.json, which lists the files and the columns for measure.py.
"""

import argparse
import hashlib
import json
import pathlib
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO / "demo-data" / "us_census_ma_employment.parquet"
DEFAULT_GOLDEN = REPO / "tests" / "fixtures" / "golden" / "golden_us_census_ma_employment_2015_vs_2018.json"
YEAR_COLUMN = "year"


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] <= 0:
        raise argparse.ArgumentTypeError(f"invalid --sizes {text!r}: expected positive row counts, e.g. 10000,100000")
    return sizes


def read_golden_columns(golden_path: pathlib.Path) -> tuple[list[str], list[str]]:
    """Read the numerical and categorical column lists from the golden fixture's meta."""
    meta = json.loads(golden_path.read_text())["meta"]
    numerical = list(meta["numerical"])
    categorical = list(meta["categorical"])
    if not numerical and not categorical:
        sys.exit(f"{golden_path}: meta.numerical and meta.categorical are both empty")
    return numerical, categorical


def check_columns(source: pathlib.Path, wanted: list[str]) -> pa.Schema:
    """Exit with the list of missing columns unless the source file has every wanted column."""
    schema = pq.read_schema(source)
    missing = [name for name in wanted if name not in schema.names]
    if missing:
        sys.exit(f"{source} has no column(s) {', '.join(missing)}; its columns are {', '.join(schema.names)}")
    return schema


def rows_of_year(table: pa.Table, year: int, source: pathlib.Path) -> pa.Table:
    selected = table.filter(pc.equal(table[YEAR_COLUMN], year))
    if selected.num_rows == 0:
        sys.exit(f"{source} has no rows with {YEAR_COLUMN} == {year}")
    return selected.drop_columns([YEAR_COLUMN])


def resample(table: pa.Table, rows: int, rng: np.random.Generator) -> pa.Table:
    """Draw `rows` rows from `table` uniformly with replacement."""
    indices = rng.integers(0, table.num_rows, size=rows)
    return table.take(pa.array(indices))


def sha256_of(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=pathlib.Path, required=True, help="folder for the Parquet files and manifest.json")
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("10000,100000,1000000"), help="rows per side, comma-separated (default 10000,100000,1000000)")
    parser.add_argument("--seed", type=int, default=2015, help="seed of the resampling generator (default 2015)")
    parser.add_argument("--source", type=pathlib.Path, default=DEFAULT_SOURCE, help="census Parquet file to resample")
    parser.add_argument("--golden", type=pathlib.Path, default=DEFAULT_GOLDEN, help="golden fixture that lists the columns")
    parser.add_argument("--reference-year", type=int, default=2015)
    parser.add_argument("--current-year", type=int, default=2018)
    args = parser.parse_args()

    numerical, categorical = read_golden_columns(args.golden)
    columns = numerical + categorical
    schema = check_columns(args.source, columns + [YEAR_COLUMN])
    table = pq.read_table(args.source, columns=columns + [YEAR_COLUMN])
    reference_pool = rows_of_year(table, args.reference_year, args.source)
    current_pool = rows_of_year(table, args.current_year, args.source)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for rows in args.sizes:
        # One generator per size and side, so adding or removing a size leaves the other
        # sizes' files unchanged.
        for side_index, (side, pool) in enumerate((("reference", reference_pool), ("current", current_pool))):
            rng = np.random.default_rng([args.seed, rows, side_index])
            path = args.out_dir / f"{side}_{rows}.parquet"
            pq.write_table(resample(pool, rows, rng), path)
            files.append({"side": side, "rows": rows, "path": str(path.resolve()), "bytes": path.stat().st_size})
        print(f"wrote {rows:,} rows per side to {args.out_dir}", file=sys.stderr)

    manifest = {
        "source": str(args.source.resolve()),
        "source_sha256": sha256_of(args.source),
        "golden": str(args.golden.resolve()),
        "reference_filter": f"{YEAR_COLUMN} == {args.reference_year}",
        "current_filter": f"{YEAR_COLUMN} == {args.current_year}",
        "reference_pool_rows": reference_pool.num_rows,
        "current_pool_rows": current_pool.num_rows,
        "resampling": "uniform with replacement, numpy default_rng([seed, rows, side]) with side 0 = reference, 1 = current",
        "seed": args.seed,
        "sizes": args.sizes,
        "numerical": numerical,
        "categorical": categorical,
        "column_types_in_file": {name: str(schema.field(name).type) for name in columns},
        "files": files,
    }
    (args.out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
