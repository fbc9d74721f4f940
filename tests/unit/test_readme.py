"""The README cannot drift: its commands run, its config keys exist, its examples run top to bottom.

Every ``python -m pipelines.<command>`` the README names (in code blocks and inline) is run with
``--help`` (one subprocess per command module, light imports): it must exit 0 and know the
subcommands, choices and flags the README gives it. Every key in the configuration tables must
exist in :class:`pipelines.config.PipelineConfig` (and every config field must be documented), every
transform option in the transform registry's model. The negative cases feed misspelt text to the
same checks, so a typo in the README is caught.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel

from components.transforms import REGISTRY
from pipelines.config import PipelineConfig

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
ACTIVATE = ". .venv/bin/activate"
# What `make run` leaves behind (Makefile: DATA_STAMP), so later commands may read it.
MAKE_RUN_OUTPUTS = {"data/ad_click"}

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


# --- reading the README -----------------------------------------------------------------------


def code_blocks(text: str) -> list[tuple[str, str]]:
    """Fenced code blocks as (language, body), in order."""
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(text)]


def shell_lines(body: str) -> list[str]:
    """A bash block's commands: comments stripped, backslash continuations joined."""
    joined = re.sub(r"\\\n\s*", " ", body)
    return [re.sub(r"\s+#.*$", "", line).strip() for line in joined.splitlines() if line.strip()]


def snippets(text: str) -> list[str]:
    """Every shell line of a bash block, then every inline code span of the prose."""
    lines = [line for lang, body in code_blocks(text) if lang in ("bash", "sh") for line in shell_lines(body)]
    prose = _FENCE.sub("", text)
    return lines + [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]


@dataclass(frozen=True)
class Command:
    module: str
    positionals: tuple[str, ...]  # subcommands and choices, `a|b` split
    flags: tuple[str, ...]
    text: str


def parse_command(snippet: str) -> Command | None:
    m = re.search(r"python -m (pipelines\.\w+)(.*)", snippet)
    if m is None:
        return None
    rest = m.group(2)
    positionals: list[str] = []
    for token in rest.split():
        if token.startswith(("-", "[")):
            break
        if re.fullmatch(r"[a-z_]+(\|[a-z_]+)*", token):  # not a placeholder such as NAME
            positionals.extend(token.split("|"))
    flags = tuple(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest))
    return Command(m.group(1), tuple(positionals), flags, snippet)


def commands(text: str) -> list[Command]:
    return [c for c in map(parse_command, snippets(text)) if c is not None]


def tables(text: str) -> list[list[list[str]]]:
    """Markdown tables outside code blocks: rows of cells, header first, separator row dropped."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*_FENCE.sub("", text).splitlines(), ""]:
        if line.startswith("|"):
            if not re.fullmatch(r"\|[\s:|-]+\|", line):
                current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            found.append(current)
            current = []
    return found


def table_column(text: str, header: str) -> list[list[str]]:
    """The rows (below the header) of every table whose first header cell is ``header``."""
    return [row for table in tables(text) if table[0][0] == header for row in table[1:]]


def config_keys(text: str) -> list[str]:
    return [key for row in table_column(text, "key") for key in re.findall(r"`([^`]+)`", row[0])]


def transform_rows(text: str) -> list[tuple[str, list[str]]]:
    rows = []
    for row in table_column(text, "transform"):
        names = re.findall(r"`([^`]+)`", row[0])
        options = [o for o in re.findall(r"`([^`]+)`", row[1]) if re.fullmatch(r"[a-z_]+", o)]
        rows.extend((name, options) for name in names)
    return rows


# --- checking against the code ----------------------------------------------------------------


@functools.cache
def help_text(module: str, *sub: str) -> tuple[int, str]:
    done = subprocess.run(
        [PYTHON, "-m", module, *sub, "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout + done.stderr


def command_problems(cmd: Command) -> list[str]:
    code, text = help_text(cmd.module)
    if code != 0:
        return [f"`{cmd.text}`: `python -m {cmd.module} --help` exited {code}: {text.strip()[-300:]}"]
    choices = {c for group in re.findall(r"\{([\w,]+)\}", text) for c in group.split(",")}
    problems = [f"`{cmd.text}`: {p!r} is not one of {sorted(choices)}" for p in cmd.positionals if p not in choices]
    if problems:
        return problems
    if re.search(r"\{[\w,]+\} \.\.\.", text) and cmd.positionals:  # subparsers: flags belong to the subcommand
        code, text = help_text(cmd.module, cmd.positionals[0])
    return [f"`{cmd.text}`: {cmd.module} has no flag {f}" for f in cmd.flags if not re.search(rf"{f}\b", text)]


def _unwrap(tp: object) -> object:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        return _unwrap(members[0]) if len(members) == 1 else tuple(_unwrap(m) for m in members)
    return tp


def _models(tp: object) -> list[type[BaseModel]]:
    """The pydantic models a (unwrapped) type is: one, the members of a union of models, or none."""
    members = tp if isinstance(tp, tuple) else (tp,)
    found = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    return found if len(found) == len(members) else []


def _fields(models: list[type[BaseModel]]) -> dict[str, object]:
    """YAML name (the alias where there is one: ``schema`` for ``schema_``) -> annotation."""
    return {f.alias or name: f.annotation for m in models for name, f in m.model_fields.items()}


def key_problem(key: str) -> str | None:
    """Why a dotted README key is not a config key (``<name>`` stands for a map key), or None."""
    tp: object = PipelineConfig
    for part in key.split("."):
        tp = _unwrap(tp)
        if models := _models(tp):
            fields = _fields(models)
            if part not in fields:
                return f"{key}: no {part!r} here (known: {', '.join(sorted(fields))})"
            tp = fields[part]
        elif typing.get_origin(tp) is dict:
            if not re.fullmatch(r"<\w+>", part):
                return f"{key}: {part!r} is a map key; write it as <name>"
            tp = typing.get_args(tp)[1]
        else:
            return f"{key}: {part!r} is below a value, not a section"
    return None


def config_leaves(model: type[BaseModel] = PipelineConfig, prefix: str = "") -> list[str]:
    """Every settable key: fields whose type is not a section model (maps and unions are leaves)."""
    leaves = []
    for key, annotation in _fields([model]).items():
        sub = _models(_unwrap(annotation))
        if len(sub) == 1:
            leaves.extend(config_leaves(sub[0], f"{prefix}{key}."))
        else:
            leaves.append(prefix + key)
    return leaves


def transform_problem(name: str, options: list[str]) -> str | None:
    if name not in REGISTRY:
        return f"transform {name!r} is not in the registry ({', '.join(REGISTRY)})"
    fields = REGISTRY[name].config.model_fields
    unknown = [o for o in options if o not in fields]
    return f"transform {name}: no option {unknown} (has: {', '.join(fields)})" if unknown else None


def order_problems(text: str) -> list[str]:
    """Commands of the bash blocks, in order, read only what the repository or an earlier command made."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=False).stdout
    made = set(MAKE_RUN_OUTPUTS) | set(tracked.split())
    problems = []
    for lang, body in code_blocks(text):
        for line in shell_lines(body) if lang == "bash" else []:
            args = dict(re.findall(r"(--[a-z-]+)[ =](\S+)", line))
            module = re.search(r"python -m (pipelines\.\w+)", line)
            for flag in ("--data", "--config"):
                if flag in args and args[flag].rstrip("/") not in made:
                    problems.append(f"`{line}`: {args[flag]} is made by no earlier command")
            if module and module.group(1) == "pipelines.init" and "--name" in args:
                made.add(args.get("--out", f"configs/{args['--name']}.yaml"))
            if "--out" in args:
                made.add(args["--out"].rstrip("/"))
    return problems


# --- the README as it is ----------------------------------------------------------------------

README_COMMANDS = commands(README)
MODULES = sorted({c.module for c in README_COMMANDS})


def test_readme_names_the_commands() -> None:
    assert {"pipelines.run", "pipelines.init", "pipelines.datagen", "pipelines.serve"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_every_readme_command_runs_with_help(module: str) -> None:
    problems = [p for c in README_COMMANDS if c.module == module for p in command_problems(c)]
    assert not problems, "\n".join(problems)


def test_every_readme_config_key_exists() -> None:
    keys = config_keys(README)
    assert len(keys) > 40, "the configuration table was not found"
    problems = [p for p in map(key_problem, keys) if p]
    assert not problems, "\n".join(problems)


def test_every_config_key_is_in_the_readme() -> None:
    documented = config_keys(README)
    missing = [k for k in config_leaves() if not any(d == k or d.startswith(k + ".") for d in documented)]
    assert not missing, f"config keys missing from the README's configuration table: {missing}"


def test_every_transform_in_the_readme_exists_and_every_transform_is_there() -> None:
    rows = transform_rows(README)
    problems = [p for name, options in rows if (p := transform_problem(name, options))]
    assert not problems, "\n".join(problems)
    assert sorted(REGISTRY) == sorted(name for name, _ in rows)


def test_the_venv_is_activated_before_the_first_command() -> None:
    first_command = README.index("python -m ")
    activate = README.find(f"```bash\n{ACTIVATE}")
    assert 0 <= activate < first_command, f"no `{ACTIVATE}` block before the first command"
    assert ".venv/bin/python" not in README, "one way everywhere: activate the venv, then `python -m ...`"


def test_examples_run_top_to_bottom() -> None:
    assert order_problems(README) == []


def test_bash_blocks_hold_commands_to_paste() -> None:
    lines = [line for lang, body in code_blocks(README) if lang == "bash" for line in shell_lines(body)]
    assert [line for line in lines if re.search(r"\[-|\.\.\.|^\[", line)] == []


@pytest.mark.parametrize("phrase", ["planned", "development machine"])
def test_no_promises_or_talk_of_our_machines(phrase: str) -> None:
    assert phrase not in README.lower()


def test_performance_is_a_short_table_linking_the_benchmarks() -> None:
    section = README.split("## Performance\n", 1)[1].split("\n## ", 1)[0]
    assert len(section.strip().splitlines()) <= 40  # the tables; the rest lives in benchmarks/README.md
    assert "](benchmarks/README.md)" in section
    assert any(table[0][1:] == ["this project", "vanilla TFX", "plain Keras"] for table in tables(section))


def test_paths_the_readme_names_exist() -> None:
    names = re.findall(r"[`(]((?:pipelines|components|benchmarks|tests|notebooks|configs)/[\w./-]+)[`)]", README)
    names = [n for n in names if n.endswith(("/", ".py", ".md", ".yaml", ".ipynb", ".png"))]
    assert len(names) > 10
    assert [n for n in names if not (REPO / n).exists()] == []


# --- the same checks catch a misspelt README --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("```bash\npython -m pipelines.rum --config configs/ad_click.yaml\n```\n", "exited"),
        ("`python -m pipelines.run --config FILE --sumary PATH`", "no flag --sumary"),
        ("`python -m pipelines.push lsit --config configs/ad_click.yaml`", "'lsit' is not one of"),
        ("`python -m pipelines.push rollback --config FILE --too 3`", "no flag --too"),
        ("`python -m pipelines.datagen churn|specie --rows N --out DIR`", "'specie' is not one of"),
    ],
)
def test_a_misspelt_command_fails(text: str, match: str) -> None:
    problems = [p for c in commands(text) for p in command_problems(c)]
    assert any(match in p for p in problems), problems


@pytest.mark.parametrize(
    "key",
    [
        "trainer.train_step",
        "validation.skew.serving_dat",
        "schema_.path",
        "validation.drift.features.age",
        "model.type.dnn",
        "evaluation.threshold.<metric>",
    ],
)
def test_a_misspelt_config_key_fails(key: str) -> None:
    table = f"| key | default | meaning |\n|---|---|---|\n| `{key}` | x | y |\n"
    assert config_keys(table) == [key]
    assert key_problem(key) is not None


@pytest.mark.parametrize(("name", "options"), [("hash", ["hash_bucket"]), ("zscores", []), ("vocabulary", ["topk"])])
def test_a_misspelt_transform_fails(name: str, options: list[str]) -> None:
    assert transform_problem(name, options) is not None


def test_an_example_that_reads_later_data_fails() -> None:
    text = (
        "```bash\npython -m pipelines.init --data data/churn --label churned --name churn\n"
        "python -m pipelines.datagen churn --rows 100 --out data/churn\n```\n"
    )
    assert order_problems(text) == [
        "`python -m pipelines.init --data data/churn --label churned --name churn`: "
        "data/churn is made by no earlier command"
    ]
