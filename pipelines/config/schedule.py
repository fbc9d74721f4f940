"""Which engine runs the pipeline (``runner``) and when a scheduler starts it (``schedule``).

    runner: airflow                 # local (default) | airflow | vertex
    schedule:                       # read by `python -m pipelines.schedule airflow`
      cron: "0 3 1 * *"             # five fields or a preset (@daily, @monthly, ...)
      start_date: 2026-01-01
      catchup: false                # do not backfill the runs missed since start_date
      retries: 1                    # per task; safe: see pipelines/runners/airflow_tasks.py
      retry_delay_minutes: 5

Light: pydantic only, so a bad section fails in under a second with the key named.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from pipelines.config.base import Strict

__all__ = ["RUNNERS", "RunnerName", "ScheduleSection", "check_cron", "check_runner"]

# The engines a config may choose today; ``pipelines.runners.ENGINES`` maps each to its module.
RUNNERS: tuple[str, ...] = ("local", "airflow", "vertex")

_PRESETS = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@annually")
# (name, lowest, highest) of the five cron fields; month and weekday may also be names (JAN, MON).
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_NAMES = r"(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)"
_PART = re.compile(rf"^(\*|\d+|{_NAMES})(-(\d+|{_NAMES}))?(/\d+)?$", re.IGNORECASE)


def check_runner(value: str) -> str:
    if value not in RUNNERS:
        raise ValueError(f"unknown runner {value!r}; choose one of {', '.join(RUNNERS)}")
    return value


RunnerName = Annotated[str, AfterValidator(check_runner)]


def check_cron(expression: str) -> str:
    """``expression`` when it is a five-field cron line or a preset; ValueError naming the bad field.

    Example:
        >>> check_cron("0 3 1 * *")
        '0 3 1 * *'
    """
    text = expression.strip()
    if text in _PRESETS:
        return text
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise ValueError(
            f"{expression!r} has {len(fields)} field(s); a cron line has 5 (minute hour day-of-month month "
            f"day-of-week), e.g. '0 3 1 * *', or is one of {', '.join(_PRESETS)}"
        )
    for value, (name, low, high) in zip(fields, _FIELDS, strict=False):
        for part in value.split(","):
            match = _PART.match(part)
            if not match:
                raise ValueError(
                    f"{expression!r}: the {name} field {value!r} is not a cron field (e.g. *, 5, 1-5, */2)"
                )
            numbers = [int(n) for n in (match.group(1), match.group(4)) if n and n.isdigit()]
            if any(not low <= n <= high for n in numbers):
                raise ValueError(f"{expression!r}: the {name} field {value!r} is outside {low}-{high}")
    return text


class ScheduleSection(Strict):
    cron: str = Field(description="When the scheduler starts a run: a cron line ('0 3 1 * *') or a preset (@daily).")
    start_date: dt.date = Field(description="First date the schedule covers, e.g. 2026-01-01 (UTC).")
    catchup: bool = Field(False, description="Also start the runs missed between start_date and now.")
    retries: int = Field(0, ge=0, le=10, description="Airflow retries per task (safe with caching on).")
    retry_delay_minutes: float = Field(5.0, ge=0, description="Wait before a task's retry, in minutes.")

    @field_validator("cron")
    @classmethod
    def _cron_ok(cls, v: str) -> str:
        return check_cron(v)
