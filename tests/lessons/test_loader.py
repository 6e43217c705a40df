"""Every shipped lesson loads; a broken lesson fails with a message that names the file and field."""
import shutil
from pathlib import Path

import pytest

from lessons import checks
from lessons.loader import CONTENT_DIRECTORY, LessonError, load_all, load_lesson

VALID_LESSON = """\
slug: tiny
order: 1
title: {ko: 작은 강의, en: A tiny lesson}
summary: {ko: 요약, en: Summary}
topics: [pod]
scenario: basic
steps:
  - id: first
    title: {ko: 첫 단계, en: First step}
    goal: {check: deployment_ready, name: web, replicas: 3}
    show_me:
      - {action: scale, target: web, replicas: 3}
"""


def write_lesson(directory: Path, text: str = VALID_LESSON) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "lesson.yaml").write_text(text, encoding="utf-8")
    (directory / "en.md").write_text("Text.\n", encoding="utf-8")
    (directory / "ko.md").write_text("본문.\n", encoding="utf-8")
    return directory


def test_every_shipped_lesson_loads_with_both_languages_and_known_checks():
    lessons = load_all()
    assert len(lessons) >= 15
    assert len({lesson.slug for lesson in lessons}) == len(lessons)
    for lesson in lessons:
        assert lesson.text["ko"].strip() and lesson.text["en"].strip(), lesson.slug
        for step in lesson.steps:
            for goal in step.goal:
                assert goal["check"] in checks.CHECKS


def test_lessons_come_in_their_order():
    orders = [lesson.order for lesson in load_all()]
    assert orders == sorted(orders)


def test_a_valid_temporary_lesson_loads(tmp_path):
    lesson = load_lesson(write_lesson(tmp_path / "01-tiny"))
    assert lesson.slug == "tiny"
    assert lesson.steps[0].goal == [{"check": "deployment_ready", "name": "web", "replicas": 3}]


@pytest.mark.parametrize("broken, expected", [
    (VALID_LESSON.replace("scenario: basic", "scenario: no-such-scenario"),
     "scenario: no shipped scenario 'no-such-scenario'"),
    (VALID_LESSON.replace("action: scale", "action: explode"),
     "steps[0].show_me[0]: invalid action: Unsupported value: \"explode\""),
    (VALID_LESSON.replace("check: deployment_ready", "check: cluster_is_happy"),
     "steps[0].goal[0]: unknown check 'cluster_is_happy'"),
    (VALID_LESSON.replace("replicas: 3}\n    show_me", "replica: 3}\n    show_me"),
     "steps[0].goal[0]: check deployment_ready: missing parameter 'replicas'"),
    (VALID_LESSON.replace("target: web, replicas: 3}", "target: worker-9, replicas: 3, bogus: 1}"),
     "steps[0].show_me[0]: invalid action"),
    (VALID_LESSON.replace("title: {ko: 첫 단계, en: First step}", "title: {en: First step}"),
     "steps[0].title: must be a mapping with exactly the keys ko, en"),
])
def test_a_broken_lesson_fails_with_a_clear_message(tmp_path, broken, expected):
    directory = write_lesson(tmp_path / "01-tiny", broken)
    with pytest.raises(LessonError) as error:
        load_lesson(directory)
    assert str(error.value).startswith(str(directory / "lesson.yaml") + ": ")
    assert expected in str(error.value)


def test_a_node_action_on_a_node_the_scenario_lacks_is_refused(tmp_path):
    text = VALID_LESSON.replace("{action: scale, target: web, replicas: 3}", "{action: node.fail, target: worker-9}")
    with pytest.raises(LessonError, match=r"show_me\[0\]: invalid action: Not found: \"worker-9\""):
        load_lesson(write_lesson(tmp_path / "01-tiny", text))


def test_a_missing_translation_file_is_named(tmp_path):
    directory = write_lesson(tmp_path / "01-tiny")
    (directory / "ko.md").unlink()
    with pytest.raises(LessonError, match="ko.md: \\(file\\): missing"):
        load_lesson(directory)


def test_a_lesson_scenario_file_beside_the_lesson_is_used(tmp_path):
    directory = write_lesson(tmp_path / "01-tiny", VALID_LESSON.replace("scenario: basic", "scenario: scenario.yaml"))
    shutil.copy(CONTENT_DIRECTORY / "14-worker-node-failure" / "scenario.yaml", directory / "scenario.yaml")
    assert load_lesson(directory).scenario.name == "worker-failure-lesson"


def test_a_broken_scenario_file_beside_the_lesson_fails(tmp_path):
    directory = write_lesson(tmp_path / "01-tiny", VALID_LESSON.replace("scenario: basic", "scenario: scenario.yaml"))
    (directory / "scenario.yaml").write_text("name: x\ntopology: {workers: {count: 0, bogus: 1}}\n", encoding="utf-8")
    with pytest.raises(LessonError, match="scenario: invalid scenario: .*bogus"):
        load_lesson(directory)


def test_duplicate_slugs_are_refused(tmp_path):
    write_lesson(tmp_path / "01-tiny")
    write_lesson(tmp_path / "02-tiny-again")
    with pytest.raises(LessonError, match="slug: Duplicate value: 'tiny'"):
        load_all(tmp_path)
