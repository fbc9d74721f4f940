"""Console details: progress lines in one column, error counts in good English (issue 20, point 9)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from pipelines.errors import ConfigError, PreflightError
from pipelines.runners.base import Progress, step


def test_progress_names_start_in_one_column_with_ten_or_more_components() -> None:
    names = [f"C{i}" for i in range(1, 12)]
    out = io.StringIO()
    progress = Progress({name: [name] for name in names}, out)
    for name in names:
        progress.started(name)
        progress.finished(name, cached=True)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 * len(names)
    assert {line.index(" C") for line in lines} == {len("[11/11]")}
    assert lines[0].startswith("[1/11]  C1 ") and lines[-1].startswith("[11/11] C11 ")


@pytest.mark.parametrize(
    ("index", "total", "expected"),
    [(1, 9, "[1/9]"), (1, 10, "[1/10] "), (10, 10, "[10/10]"), (7, 120, "[7/120]  "), (120, 120, "[120/120]")],
)
def test_step_is_padded_to_the_widest_step(index: int, total: int, expected: str) -> None:
    assert step(index, total) == expected


@pytest.mark.parametrize(("count", "words"), [(2, "(2 problems)"), (3, "(3 problems)")])
def test_config_error_counts_its_problems(count: int, words: str) -> None:
    error = ConfigError([f"a.yaml: key{i}: wrong" for i in range(count)])
    assert words in str(error)


def test_config_error_with_one_problem_states_it_alone() -> None:
    assert str(ConfigError("a.yaml: key: wrong")) == "a.yaml: key: wrong"


@pytest.mark.parametrize(("count", "words"), [(1, "(1 problem)"), (2, "(2 problems)")])
def test_preflight_error_counts_its_problems(count: int, words: str) -> None:
    problems = [SimpleNamespace(file=f"{i}.csv", description="no header", fix="add one") for i in range(count)]
    text = str(PreflightError(problems))
    assert words in text
    assert "1 problems" not in text
