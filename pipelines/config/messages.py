"""Turning pydantic's validation errors into messages that name the file, line and dotted key.

Unknown keys get the nearest valid key ("did you mean") and the keys allowed there;
union tags (a feature's ``transform``) are hidden from the path the user sees.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Annotated, Any, Union

from pydantic import BaseModel

from pipelines.config.features import TRANSFORMS
from pipelines.config.models import PipelineConfig
from pipelines.config.source import ConfigSource


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (Union, types.UnionType):  # Optional[X] and X | None
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return tp


def _walk(loc: tuple[Any, ...]) -> tuple[list[str], Any]:
    """Follow a pydantic error location through the models.

    Returns the user-facing key path (union tags removed, aliases applied) and the
    type found at the end, so unknown keys can be compared with the allowed ones.
    """
    tp: Any = PipelineConfig
    shown: list[str] = []
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part or n == part), None)
            shown.append(str(part))
            tp = field.annotation if field else None
        elif typing.get_origin(tp) is dict:
            shown.append(str(part))
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is list:
            shown[-1:] = [f"{shown[-1]}[{part}]"] if shown else [f"[{part}]"]
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is Union:
            members = [_unwrap(a) for a in typing.get_args(tp)]
            tagged = [
                m
                for m in members
                if isinstance(m, type)
                and issubclass(m, BaseModel)
                and "transform" in m.model_fields
                and typing.get_args(m.model_fields["transform"].annotation) == (part,)
            ]
            if tagged:  # a discriminated-union tag: not a key the user wrote
                tp = tagged[0]
            else:
                shown.append(str(part))
                tp = None
        else:
            shown.append(str(part))
            tp = None
    return shown, _unwrap(tp) if tp is not None else None


def _allowed_keys(tp: Any) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


def describe_error(err: dict[str, Any], source: ConfigSource) -> str:
    """One pydantic error as ``file:line: dotted.key: message``."""
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        parent_path, parent_tp = _walk(loc[:-1])
        unknown = str(loc[-1])
        allowed = _allowed_keys(parent_tp)
        key = ".".join([*parent_path, unknown])
        guess = difflib.get_close_matches(unknown, allowed, n=1, cutoff=0.6)
        msg = f"unknown key {unknown!r}"
        if guess:
            msg += f"; did you mean {guess[0]!r}?"
        if allowed:
            msg += f" (allowed here: {', '.join(allowed)})"
        return source.locate(key) + msg
    path, _ = _walk(loc)
    key = ".".join(path) or "(top level)"
    if kind == "missing":
        return source.locate(key) + "required key is missing"
    if kind == "union_tag_invalid":
        return source.locate(key + ".transform") + (
            f"unknown transform {err['input'].get('transform')!r}; allowed: {', '.join(TRANSFORMS)}"
        )
    if kind == "union_tag_not_found":
        return source.locate(key) + (
            f"needs a 'transform' key (one of: {', '.join(TRANSFORMS)}), or write `{path[-1]}: zscore` as shorthand"
        )
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    got = err.get("input")
    if kind not in ("model_type", "dict_type") and not isinstance(got, (dict, list)):
        msg += f" (got {got!r})"
    elif kind in ("model_type", "dict_type"):
        msg = f"must be a mapping (section), got {type(got).__name__} {got!r}"
    return source.locate(key) + msg
