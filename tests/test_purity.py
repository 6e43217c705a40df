"""cluster_sim/ must stay a pure, deterministic model (docs/architecture.md): no Django, no wall
clock, no I/O, no threads, no randomness except a component's own random.Random.

The checker reads the source with `ast`, so it sees imports and calls without running anything.
"""
import ast
from pathlib import Path
from typing import NamedTuple

import pytest

SIM_DIR = Path(__file__).resolve().parent.parent / "cluster_sim"

# Top-level modules whose import alone breaks the rules: web framework, clocks, threads,
# processes, network, files, and OS entropy.
FORBIDDEN_MODULES = {
    "django", "channels", "rest_framework",
    "time", "sched",
    "threading", "_thread", "multiprocessing", "concurrent", "asyncio",
    "subprocess", "signal", "socket", "ssl", "select", "selectors", "http", "urllib", "requests",
    "os", "sys", "shutil", "pathlib", "tempfile", "glob", "io", "logging", "sqlite3",
    "secrets",
}
# Builtins that read or write outside the simulation, or differ between processes
# (str hashes are salted per process, so hash() breaks replay).
FORBIDDEN_BUILTINS = {"open", "input", "print", "breakpoint", "exec", "eval", "__import__", "hash"}
# datetime is fine for formatting virtual time; asking it for the current time is not.
WALL_CLOCK_METHODS = {"now", "utcnow", "today"}
ALLOWED_RANDOM_NAMES = {"Random"}
NONDETERMINISTIC_UUID_FUNCTIONS = {"uuid1", "uuid4"}

# Edge modules that the simulation itself never runs may do exactly the listed I/O, nothing more.
# Keys are paths under cluster_sim/, values the rules waived (the `rule` of a Violation).
ALLOWED = {
    # `python -m cluster_sim`: a command line reads scenario files and writes results.
    "__main__.py": {"import:sys", "call:open", "call:print"},
    # Scenario loader: reads YAML files for the web app and tests, before a simulation starts.
    "scenario.py": {"import:os", "call:open"},
}


class Violation(NamedTuple):
    line: int
    rule: str  # what an ALLOWED entry names: "import:os", "call:print", "random:randint", ...
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _top_module(name: str) -> str:
    return name.split(".", 1)[0]


def _dotted_name(node: ast.AST) -> str:
    parts = []
    for _ in range(32):  # attribute chains are short; the bound only guards odd input
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return ".".join(reversed(parts))
        else:
            return ""
    return ""


class _PurityVisitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.random_aliases: set[str] = set()  # local names bound to the random module
        self.uuid_aliases: set[str] = set()

    def _report(self, node: ast.AST, rule: str, message: str) -> None:
        self.violations.append(Violation(node.lineno, rule, message))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            module = _top_module(alias.name)
            if module in FORBIDDEN_MODULES:
                self._report(node, f"import:{module}", f"imports {alias.name}")
            if alias.name == "random":
                self.random_aliases.add(alias.asname or "random")
            if alias.name == "uuid":
                self.uuid_aliases.add(alias.asname or "uuid")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            module = _top_module(node.module)
            if module in FORBIDDEN_MODULES:
                self._report(node, f"import:{module}", f"imports from {node.module}")
            for alias in node.names:
                if node.module == "random" and alias.name not in ALLOWED_RANDOM_NAMES:
                    self._report(node, f"random:{alias.name}", f"imports random.{alias.name} (use the component's rng)")
                if node.module == "uuid" and alias.name in NONDETERMINISTIC_UUID_FUNCTIONS:
                    self._report(node, f"uuid:{alias.name}", f"imports uuid.{alias.name} (derive ids from the rng)")
                if node.module == "datetime" and alias.name in WALL_CLOCK_METHODS:
                    self._report(node, f"clock:{alias.name}", f"imports datetime.{alias.name}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name):
            if node.value.id in self.random_aliases and node.attr not in ALLOWED_RANDOM_NAMES:
                self._report(node, f"random:{node.attr}", f"uses {node.value.id}.{node.attr} (the global generator; use self.rng)")
            if node.value.id in self.uuid_aliases and node.attr in NONDETERMINISTIC_UUID_FUNCTIONS:
                self._report(node, f"uuid:{node.attr}", f"uses {node.value.id}.{node.attr} (derive ids from the rng)")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        if isinstance(function, ast.Name) and function.id in FORBIDDEN_BUILTINS:
            self._report(node, f"call:{function.id}", f"calls {function.id}()")
        if isinstance(function, ast.Attribute) and function.attr in WALL_CLOCK_METHODS:
            owner = _dotted_name(function.value)
            if owner.split(".")[-1] in {"datetime", "date"}:
                self._report(node, f"clock:{function.attr}", f"calls {owner}.{function.attr}() (reads the wall clock)")
        if _dotted_name(function).endswith("import_module") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if _top_module(first.value) in FORBIDDEN_MODULES:
                    self._report(node, f"import:{_top_module(first.value)}", f"imports {first.value} dynamically")
        self.generic_visit(node)


def find_impurities(source: str, filename: str = "<source>") -> list[Violation]:
    """Every rule the source breaks, in source order."""
    visitor = _PurityVisitor()
    visitor.visit(ast.parse(source, filename=filename))
    return visitor.violations


def simulation_modules() -> list[Path]:
    return sorted(SIM_DIR.rglob("*.py"))


def test_cluster_sim_has_modules_to_check() -> None:
    assert len(simulation_modules()) >= 2, f"no Python modules found under {SIM_DIR}"


def _module_key(path: Path) -> str:
    return path.relative_to(SIM_DIR).as_posix()


@pytest.mark.parametrize("path", simulation_modules(), ids=_module_key)
def test_simulation_module_is_pure(path: Path) -> None:
    allowed = ALLOWED.get(_module_key(path), set())
    violations = find_impurities(path.read_text(encoding="utf-8"), filename=str(path))
    unexpected = [str(violation) for violation in violations if violation.rule not in allowed]
    assert unexpected == [], f"cluster_sim/{_module_key(path)} breaks the purity rules:\n" + "\n".join(unexpected)


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_every_allowance_is_still_needed(module: str) -> None:
    path = SIM_DIR / module
    assert path.is_file(), f"ALLOWED names cluster_sim/{module}, which does not exist: remove the entry"
    used = {violation.rule for violation in find_impurities(path.read_text(encoding="utf-8"))}
    assert ALLOWED[module] <= used, f"cluster_sim/{module} no longer needs {sorted(ALLOWED[module] - used)}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import django.conf", "imports django.conf"),
        ("from django.utils import timezone", "imports from django.utils"),
        ("import time\nx = time.monotonic()", "imports time"),
        ("import threading", "imports threading"),
        ("import socket", "imports socket"),
        ("import asyncio", "imports asyncio"),
        ("import subprocess", "imports subprocess"),
        ("import os.path", "imports os.path"),
        ("import random\nx = random.random()", "uses random.random"),
        ("import random\nrandom.seed(1)", "uses random.seed"),
        ("import random as r\nx = r.randint(1, 6)", "uses r.randint"),
        ("import random\nrandom.shuffle(items)", "uses random.shuffle"),
        ("import random\nx = random.choice(items)", "uses random.choice"),
        ("import random\npick = random.choice", "uses random.choice"),
        ("from random import choice", "imports random.choice"),
        ("import datetime\nx = datetime.datetime.now()", "calls datetime.datetime.now()"),
        ("from datetime import datetime\nx = datetime.now()", "calls datetime.now()"),
        ("from datetime import date\nx = date.today()", "calls date.today()"),
        ("x = open('state.json').read()", "calls open()"),
        ("print('debug')", "calls print()"),
        ("x = hash('etcd-1')", "calls hash()"),
        ("import uuid\nx = uuid.uuid4()", "uses uuid.uuid4"),
        ("import importlib\nm = importlib.import_module('time')", "imports time dynamically"),
    ],
)
def test_checker_catches_impure_source(source: str, expected: str) -> None:
    violations = [str(violation) for violation in find_impurities(source)]
    assert any(expected in violation for violation in violations), violations


def test_checker_reports_the_line_of_each_violation() -> None:
    source = "import heapq\nimport time\n\nimport threading\n"
    assert [str(violation) for violation in find_impurities(source)] == [
        "line 2: imports time",
        "line 4: imports threading",
    ]


def test_checker_accepts_deterministic_code() -> None:
    source = """
import datetime
import heapq
import random
import uuid
from random import Random

class Member:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.other = Random(seed + 1)

    def jitter_ms(self) -> int:
        return self.rng.randint(0, 100) + int(self.rng.random() * 10)

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

def format_time(time_ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(time_ms / 1000, tz=datetime.timezone.utc)
    return moment.isoformat()
"""
    assert find_impurities(source) == []
