"""The bad-data corpus: each case is good generated data broken in one way.

``build_corpus(good_csv, out_dir)`` writes one directory per case and returns the
cases; ``python -m tests.e2e.bad_data --config C --corpus DIR --out R.json`` runs
``pipelines.run --until validate`` on every case in ONE process (TFX is imported
once, not once per case) and records exit code, output and seconds per case.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from components import filesystem as fs


@dataclass
class Case:
    name: str
    names: str  # what the message must name: a feature or the file
    stage: str  # "preflight" (before TFX), "config" or "gate"
    source: str = ""


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])


def build_corpus(good_csv: Path, out: Path, rows: int = 2000) -> list[Case]:
    header, data = _read(good_csv)
    data = data[:rows]
    col = {name: i for i, name in enumerate(header)}
    rng = random.Random(5)
    cases: list[Case] = []

    def case(name: str, names: str, stage: str, header_: list[str], rows_: list[list[str]]) -> None:
        path = out / name / "part.csv"
        _write(path, header_, rows_)
        cases.append(Case(name, names if names != "FILE" else str(path), stage, str(path.parent)))

    def with_column(name: str, value) -> list[list[str]]:
        return [[value(i, r) if j == col[name] else v for j, v in enumerate(r)] for i, r in enumerate(data)]

    # Before TFX: the file itself is wrong.
    keep = [i for i, h in enumerate(header) if h != "age"]
    case("missing_column", "age", "preflight", [header[i] for i in keep], [[r[i] for i in keep] for r in data])
    case("extra_column", "browser", "preflight", [*header, "browser"], [[*r, "firefox"] for r in data])
    case("header_only", "FILE", "preflight", header, [])
    bad = [list(r) for r in data]
    bad[10] = bad[10][:-2]
    bad[20] = [*bad[20], "surplus"]
    case("wrong_field_count", "FILE", "preflight", header, bad)
    empty = out / "empty_file" / "part.csv"
    empty.parent.mkdir(parents=True, exist_ok=True)
    empty.write_bytes(b"")
    cases.append(Case("empty_file", str(empty), "preflight", str(empty.parent)))
    latin = out / "not_utf8" / "part.csv"
    _write(latin, header, with_column("city", lambda i, r: "Zürich" if i % 50 == 0 else r[col["city"]]))
    latin.write_bytes(latin.read_text(encoding="utf-8").encode("latin-1"))
    cases.append(Case("not_utf8", str(latin), "preflight", str(latin.parent)))
    cases.append(Case("missing_path", str(out / "does_not_exist"), "config", str(out / "does_not_exist")))

    # TFDV sees it: the validation gate stops it.
    case(
        "text_in_numeric",
        "age",
        "gate",
        header,
        with_column("age", lambda i, r: "unknown" if i % 10 == 0 else r[col["age"]]),
    )
    case(
        "too_many_missing",
        "area_income",
        "gate",
        header,
        with_column("area_income", lambda i, r: "" if i % 5 == 0 else r[col["area_income"]]),
    )
    case("empty_column", "daily_internet_usage", "gate", header, with_column("daily_internet_usage", lambda i, r: ""))
    case(
        "label_out_of_domain",
        "clicked_on_ad",
        "gate",
        header,
        with_column("clicked_on_ad", lambda i, r: "2" if i % 7 == 0 else r[col["clicked_on_ad"]]),
    )
    case(
        "unseen_category_flood",
        "country",
        "gate",
        header,
        with_column("country", lambda i, r: f"Country{rng.randrange(500)}" if i % 2 == 0 else r[col["country"]]),
    )
    case(
        "scaled_x1000_drift",
        "area_income",
        "gate",
        header,
        with_column("area_income", lambda i, r: f"{float(r[col['area_income']]) * 1000:.2f}"),
    )
    return cases


def run_corpus(config: str, cases: list[Case], summaries: Path) -> list[dict[str, object]]:
    """Run every case in this process through ``pipelines.run --until validate``."""
    from pipelines.cli import main_guard
    from pipelines.run import main

    results = []
    for c in cases:
        out, err = io.StringIO(), io.StringIO()
        summary = summaries / f"{c.name}.json"
        start = time.monotonic()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = [
                "--config",
                config,
                "--until",
                "validate",
                "--summary",
                str(summary),
                "--set",
                f"data.source={c.source}",
            ]
            code = main_guard(lambda args=args: main(args))
        results.append(
            {
                **asdict(c),
                "exit": code,
                "stdout": out.getvalue(),
                "stderr": err.getvalue(),
                "seconds": round(time.monotonic() - start, 1),
                "summary": json.loads(summary.read_text()) if summary.exists() else None,
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--good", required=True, help="a good CSV file to break")
    parser.add_argument("--corpus", required=True, help="directory to write the cases into")
    parser.add_argument("--out", required=True, help="results JSON")
    args = parser.parse_args()
    cases = build_corpus(Path(args.good), Path(args.corpus))
    results = run_corpus(args.config, cases, Path(args.corpus))
    fs.write_text(args.out, json.dumps(results, indent=2))  # atomic: the test never reads half of it


if __name__ == "__main__":
    main()
