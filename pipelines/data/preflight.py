"""Reject malformed CSV input before TFX starts, with the file and line named.

TFDV only sees what CsvExampleGen could parse; a file that cannot be parsed makes
ExampleGen crash with a Beam traceback. These checks run first, in pure Python
(about a second per million rows), reading each file with ExampleGen's own reader
(``components.csv_cells``: BOM dropped, quoted newlines kept, blank lines skipped):
unreadable or missing files, empty files, header-only data, undecodable bytes, a
header that lacks or adds columns, rows with the wrong number of fields.

The expected columns are the curated schema's features (``components.schema_file``),
or the config's features and label when the pipeline has no schema.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from components import filesystem as fs
from components.csv_cells import numbered_rows, open_csv
from components.schema_file import SchemaFileError, feature_names, read_schema
from pipelines.config import PipelineConfig
from pipelines.data.sources import resolve
from pipelines.errors import ConfigError, PreflightError

__all__ = ["MAX_EXAMPLES", "Problem", "check_file", "expected_columns", "first_bad_byte", "preflight"]

MAX_EXAMPLES = 5  # bad rows quoted per file


@dataclass
class Problem:
    file: str
    kind: str
    description: str
    fix: str
    feature: str = "(file)"

    def to_anomaly(self) -> dict[str, object]:
        """The same shape as the validation gate's anomalies, for one summary format."""
        return {
            "split": "input",
            "feature": self.feature,
            "kind": self.kind,
            "severity": "ERROR",
            "description": f"{self.file}: {self.description}",
            "fix": self.fix,
            "blocking": True,
            "allowed": False,
        }


def expected_columns(config: PipelineConfig) -> tuple[list[str], str]:
    """Columns every training file must have, and where that list comes from.

    Raises:
        ConfigError: ``schema.path`` names a file that is not a TFDV schema.
    """
    path = config.schema_.path
    if path and fs.isfile(path):
        try:
            names = feature_names(read_schema(path))
        except SchemaFileError as exc:
            raise ConfigError(f"schema.path: {exc}", hint="fix the file, or remove schema.path to infer one") from exc
        if names:
            return names, f"schema {path}"
    return [*config.features, config.label.column], "config features + label"


def _header_problems(path: str, header: list[str], columns: list[str], origin: str) -> list[Problem]:
    problems = []
    for name in [c for c in columns if c not in header]:
        problems.append(
            Problem(
                path,
                "SCHEMA_MISSING_COLUMN",
                f"header lacks column '{name}' (required by {origin})",
                f"add '{name}' to the file, or remove it from the schema and features",
                name,
            )
        )
    for name in [c for c in header if c not in columns]:
        problems.append(
            Problem(
                path,
                "SCHEMA_NEW_COLUMN",
                f"column '{name}' is not in {origin}",
                f"remove '{name}' from the file, or add it to the schema and features",
                name,
            )
        )
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        problems.append(
            Problem(path, "DUPLICATE_COLUMN", f"header repeats {', '.join(dupes)}", "give every column a distinct name")
        )
    return problems


def check_file(path: str, columns: list[str], origin: str) -> list[Problem]:
    """All problems of one CSV file (at most MAX_EXAMPLES bad rows quoted)."""
    problems: list[Problem] = []
    bad_rows: list[str] = []
    rows = 0
    try:
        with open_csv(path) as fh:
            if fs.size(path) == 0:
                return [Problem(path, "EMPTY_FILE", "is empty", "remove the file or write the data into it")]
            numbered = numbered_rows(fh)
            _, header = next(numbered, (0, []))
            problems += _header_problems(path, header, columns, origin)
            width = len(header)
            for line, row in numbered:
                rows += 1
                if len(row) != width:
                    if len(bad_rows) < MAX_EXAMPLES:
                        bad_rows.append(f"line {line} has {len(row)} fields, the header has {width}")
                    elif len(bad_rows) == MAX_EXAMPLES:
                        bad_rows.append("...")
    except PermissionError:
        return [Problem(path, "UNREADABLE", "cannot be read (permission denied)", "fix the file's permissions")]
    except FileNotFoundError:
        return [Problem(path, "UNREADABLE", "disappeared while it was being checked", "check what removes input files")]
    except OSError as exc:
        return [
            Problem(path, "UNREADABLE", f"cannot be read ({exc.strerror or exc})", "check the file and its storage")
        ]
    except UnicodeDecodeError:
        line, byte = first_bad_byte(path)
        problems.append(
            Problem(
                path,
                "INVALID_UTF8",
                f"is not valid UTF-8 (byte 0x{byte:02x} on line {line})",
                "re-export the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
            )
        )
        return problems
    except csv.Error as exc:
        problems.append(Problem(path, "MALFORMED_CSV", f"is not valid CSV: {exc}", "fix the quoting in the file"))
        return problems
    if bad_rows:
        problems.append(
            Problem(
                path,
                "WRONG_FIELD_COUNT",
                "rows with the wrong number of fields: " + "; ".join(bad_rows),
                "fix or remove those rows (a field holding a comma must be quoted)",
            )
        )
    if rows == 0 and not problems:
        problems.append(
            Problem(
                path,
                "NO_DATA_ROWS",
                "has a header but no data rows",
                "remove the file, or check the export that wrote it",
            )
        )
    return problems


def first_bad_byte(path: str) -> tuple[int, int]:
    """(line, byte value) of the first byte that is not UTF-8, reading 1 MB at a time."""
    pending, newlines = b"", 0
    with fs.open_file(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            buf = pending + chunk
            try:
                buf.decode("utf-8")
                pending = b""
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data" and exc.start >= len(buf) - 3:
                    pending = buf[exc.start :]  # a character cut by the chunk boundary
                    newlines += buf[: exc.start].count(b"\n")
                    continue
                return newlines + buf[: exc.start].count(b"\n") + 1, buf[exc.start]
            newlines += buf.count(b"\n")
    return newlines + 1, pending[0] if pending else 0


def preflight(config: PipelineConfig) -> list[str]:
    """Check every input file; returns the files, raises PreflightError naming each problem."""
    found = resolve(config.data.source, config.data.pattern, config.data.rolling_spans)
    if not found.files:
        raise PreflightError(
            [
                Problem(
                    config.data.source,
                    "NO_INPUT_FILES",
                    f"no files match data.pattern {config.data.pattern!r}",
                    "check data.source and data.pattern, or add the data",
                )
            ]
        )
    columns, origin = expected_columns(config)
    problems = [p for f in found.files for p in check_file(f, columns, origin)]
    if problems:
        raise PreflightError(problems)
    return found.files
