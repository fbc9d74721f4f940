"""Render a report template with Jinja2 (autoescaping on for every template) and write it atomically.

Python code hands the templates plain data (strings and numbers, chart geometry from
``_charts``); all markup is in ``templates/``, so every value that reaches the page is
escaped by Jinja and nothing in Python is marked safe.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jinja2

from components import filesystem as fs


@functools.cache
def environment() -> jinja2.Environment:
    """The reports' Jinja environment: templates from this package, autoescaped, undefined names an error."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pipelines.results.reports", "templates"),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the render instead of showing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """``templates/<template>`` rendered with ``context``."""
    return environment().get_template(template).render(**context)


def write_report(path: str | os.PathLike[str], text: str) -> str:
    """Write ``text`` to ``path`` atomically (through :mod:`components.filesystem`); returns the path written.

    A reader (or a browser refreshing) sees the old report or the new one, never half of one.
    Local paths come back absolute.
    """
    path = os.fspath(path)
    if not fs.is_remote(path):
        path = os.path.abspath(path)
    fs.write_text(path, text)
    return path
