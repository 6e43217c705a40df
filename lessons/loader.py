"""Lessons are data: lessons/content/<NN-slug>/ holds lesson.yaml, en.md and ko.md (and optionally
scenario.yaml). This module reads and checks them completely, so a broken lesson fails loudly
(at test time and at the first page view) with ``<file>: <field path>: <what is wrong>``.

Show-me actions may name things that only exist at run time with a placeholder target:
``$etcd-leader`` / ``$etcd-follower`` / ``$etcd-stopped`` (an etcd member, as etcd.* actions name it) and
``$pod:<label selector>`` (the first Running pod that matches, by name; in ``target`` as
``default/<pod>``, in ``name`` (delete) as the bare name).
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cluster_sim import durations
from cluster_sim.apiserver.selectors import parse_label_selector
from cluster_sim.scenario import Scenario, ScenarioError, load_scenario, parse_action, shipped_path

from . import checks

CONTENT_DIRECTORY = Path(__file__).resolve().parent / "content"
LANGUAGES = ("ko", "en")
LESSON_FIELDS = {"slug", "order", "title", "summary", "topics", "scenario", "steps"}
STEP_FIELDS = {"id", "title", "task", "goal", "hints", "show_me", "clock"}
PLACEHOLDER_ETCD = ("$etcd-leader", "$etcd-follower", "$etcd-stopped")
PLACEHOLDER_POD = "$pod:"
PLACEHOLDER_FIELDS = ("target", "name")  # the action fields that may hold a placeholder
MAX_LESSONS = 500
MAX_STEPS = 50


class LessonError(ValueError):
    def __init__(self, source: str, path: str, message: str):
        super().__init__(f"{source}: {path or '(root)'}: {message}")


@dataclass
class Step:
    id: str
    title: dict
    task: dict
    goal: list
    hints: dict
    show_me: list
    clock_ms: int | None


@dataclass
class Lesson:
    slug: str
    order: int
    title: dict
    summary: dict
    topics: list
    scenario_name: str
    scenario: Scenario
    text: dict
    steps: list = field(default_factory=list)
    directory: Path | None = None

    def step(self, step_id: str) -> Step | None:
        return next((step for step in self.steps if step.id == step_id), None)

    def step_ids(self) -> list[str]:
        return [step.id for step in self.steps]


def _texts(value: Any, source: str, path: str) -> dict:
    if not isinstance(value, dict) or set(value) != set(LANGUAGES):
        raise LessonError(source, path, f"must be a mapping with exactly the keys {', '.join(LANGUAGES)}")
    for language in LANGUAGES:
        if not isinstance(value[language], str) or not value[language].strip():
            raise LessonError(source, f"{path}.{language}", "must be non-empty text")
    return {language: value[language].strip() for language in LANGUAGES}


def _hints(value: Any, source: str, path: str) -> dict:
    if value is None:
        return {language: [] for language in LANGUAGES}
    if not isinstance(value, dict) or set(value) != set(LANGUAGES):
        raise LessonError(source, path, f"must be a mapping with exactly the keys {', '.join(LANGUAGES)}")
    hints = {}
    for language in LANGUAGES:
        items = value[language]
        if not isinstance(items, list) or not all(isinstance(item, str) and item.strip() for item in items):
            raise LessonError(source, f"{path}.{language}", "must be a list of non-empty texts")
        hints[language] = [item.strip() for item in items]
    if len(hints["ko"]) != len(hints["en"]):
        raise LessonError(source, path, "ko and en must give the same number of hints")
    return hints


def _goal(value: Any, source: str, path: str) -> list:
    entries = [value] if isinstance(value, dict) else value
    if not isinstance(entries, list) or not entries:
        raise LessonError(source, path, "must be a check ({check: name, ...}) or a non-empty list of checks")
    goal = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise LessonError(source, f"{path}[{index}]", "must be a mapping with a 'check' field")
        problem = checks.validate_goal(entry)
        if problem:
            raise LessonError(source, f"{path}[{index}]", problem)
        goal.append(dict(entry))
    return goal


def sample_placeholder(value: Any, scenario: Scenario, key: str) -> Any:
    """A value of the right shape standing in for a run-time placeholder, for validation."""
    if value in PLACEHOLDER_ETCD:
        return scenario.control_plane["etcd_members"][0]
    if isinstance(value, str) and value.startswith(PLACEHOLDER_POD):
        return "default/placeholder-pod" if key == "target" else "placeholder-pod"
    return value


def _show_me(value: Any, scenario: Scenario, source: str, path: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise LessonError(source, path, "must be a list of actions")
    actions = []
    for index, document in enumerate(value):
        if not isinstance(document, dict):
            raise LessonError(source, f"{path}[{index}]", "must be an action mapping")
        sample = dict(document)
        for key in PLACEHOLDER_FIELDS:
            value = document.get(key)
            if isinstance(value, str) and value.startswith(PLACEHOLDER_POD):
                try:
                    parse_label_selector(value[len(PLACEHOLDER_POD):])
                except ValueError as error:
                    raise LessonError(source, f"{path}[{index}].{key}", str(error)) from None
            if key in document:
                sample[key] = sample_placeholder(value, scenario, key)
        try:
            parse_action(sample, scenario, source, f"{path}[{index}]")
        except ScenarioError as error:
            raise LessonError(source, f"{path}[{index}]", f"invalid action: {error.message} (at {error.path})") from None
        actions.append(copy.deepcopy(document))
    return actions


def _clock(value: Any, source: str, path: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"advance"}:
        raise LessonError(source, path, "must be {advance: <duration>}, e.g. {advance: 6m}")
    try:
        return durations.parse_duration_ms(value["advance"])
    except ValueError as error:
        raise LessonError(source, f"{path}.advance", str(error)) from None


def _step(value: Any, scenario: Scenario, source: str, path: str) -> Step:
    if not isinstance(value, dict):
        raise LessonError(source, path, "must be a mapping")
    unknown = sorted(set(value) - STEP_FIELDS)
    if unknown:
        raise LessonError(source, path, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(STEP_FIELDS))}")
    step_id = value.get("id")
    if not isinstance(step_id, str) or not step_id.replace("-", "").isalnum():
        raise LessonError(source, f"{path}.id", "must be a short identifier (letters, digits, '-')")
    if "goal" not in value:
        raise LessonError(source, f"{path}.goal", "Required value")
    return Step(
        id=step_id,
        title=_texts(value.get("title"), source, f"{path}.title"),
        task=_texts(value["task"], source, f"{path}.task") if "task" in value else {language: "" for language in LANGUAGES},
        goal=_goal(value["goal"], source, f"{path}.goal"),
        hints=_hints(value.get("hints"), source, f"{path}.hints"),
        show_me=_show_me(value.get("show_me"), scenario, source, f"{path}.show_me"),
        clock_ms=_clock(value.get("clock"), source, f"{path}.clock"),
    )


def _scenario(value: Any, directory: Path, source: str) -> tuple[str, Scenario]:
    local = directory / "scenario.yaml"
    if value is None and local.exists():
        value = "scenario.yaml"
    if not isinstance(value, str) or not value:
        raise LessonError(source, "scenario", "must name a shipped scenario (cluster_sim/scenarios) or scenario.yaml")
    try:
        path = local if value == "scenario.yaml" else Path(shipped_path(value))
        if not path.exists():
            raise LessonError(source, "scenario", f"{path} does not exist")
        return value, load_scenario(path)
    except ScenarioError as error:
        raise LessonError(source, "scenario", f"invalid scenario: {error}") from None
    except ValueError as error:
        if isinstance(error, LessonError):
            raise
        raise LessonError(source, "scenario", str(error)) from None


def load_lesson(directory: Path) -> Lesson:
    directory = Path(directory)
    source = str(directory / "lesson.yaml")
    try:
        document = yaml.safe_load((directory / "lesson.yaml").read_text(encoding="utf-8"))
    except OSError as error:
        raise LessonError(source, "(file)", f"cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise LessonError(source, "(file)", f"invalid YAML: {error}") from None
    if not isinstance(document, dict):
        raise LessonError(source, "", "must be a mapping")
    unknown = sorted(set(document) - LESSON_FIELDS)
    if unknown:
        raise LessonError(source, "", f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(LESSON_FIELDS))}")
    slug = document.get("slug")
    if not isinstance(slug, str) or not slug.replace("-", "").isalnum() or slug != slug.lower():
        raise LessonError(source, "slug", "must be lowercase letters, digits and '-'")
    order = document.get("order")
    if not isinstance(order, int) or isinstance(order, bool):
        raise LessonError(source, "order", "must be an integer")
    topics = document.get("topics")
    if not isinstance(topics, list) or not topics or not all(isinstance(topic, str) and topic for topic in topics):
        raise LessonError(source, "topics", "must be a non-empty list of topic ids (see docs/coverage.md)")
    scenario_name, scenario = _scenario(document.get("scenario"), directory, source)
    raw_steps = document.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps or len(raw_steps) > MAX_STEPS:
        raise LessonError(source, "steps", f"must be a list of 1 to {MAX_STEPS} steps")
    steps = [_step(item, scenario, source, f"steps[{index}]") for index, item in enumerate(raw_steps)]
    seen: set = set()
    for index, step in enumerate(steps):
        if step.id in seen:
            raise LessonError(source, f"steps[{index}].id", f"Duplicate value: {step.id!r}")
        seen.add(step.id)
    text = {}
    for language in LANGUAGES:
        path = directory / f"{language}.md"
        try:
            text[language] = path.read_text(encoding="utf-8")
        except OSError:
            raise LessonError(str(path), "(file)", "missing: every lesson needs en.md and ko.md") from None
        if not text[language].strip():
            raise LessonError(str(path), "(file)", "is empty")
    return Lesson(slug=slug, order=order, title=_texts(document.get("title"), source, "title"),
                  summary=_texts(document.get("summary"), source, "summary"), topics=list(topics),
                  scenario_name=scenario_name, scenario=scenario, text=text, steps=steps, directory=directory)


def load_all(directory: Path = CONTENT_DIRECTORY) -> list[Lesson]:
    lessons = []
    for entry in sorted(Path(directory).iterdir())[:MAX_LESSONS]:
        if entry.is_dir() and (entry / "lesson.yaml").exists():
            lessons.append(load_lesson(entry))
    slugs: dict = {}
    for lesson in lessons:
        if lesson.slug in slugs:
            raise LessonError(str(lesson.directory / "lesson.yaml"), "slug",
                              f"Duplicate value: {lesson.slug!r} (also in {slugs[lesson.slug]})")
        slugs[lesson.slug] = lesson.directory
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.slug))


@functools.lru_cache(maxsize=1)
def catalogue() -> tuple:
    """All lessons, loaded once per process (content changes need a restart)."""
    return tuple(load_all())


def get_lesson(slug: str) -> Lesson | None:
    return next((lesson for lesson in catalogue() if lesson.slug == slug), None)
