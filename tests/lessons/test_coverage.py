"""docs/coverage.md maps every seed topic to lessons; both directions must hold."""
import re
from pathlib import Path

from lessons.loader import load_all

COVERAGE = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"
SEEDS = Path("/work/shared/seeds")


def coverage_rows() -> list[list[str]]:
    rows = []
    for line in COVERAGE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"`[a-z0-9-]+`", cells[3]):
            rows.append(cells)
    return rows


def test_every_topic_in_the_table_is_taught_by_the_lessons_it_names():
    lessons = {f"{lesson.order:02d}": lesson for lesson in load_all()}
    rows = coverage_rows()
    assert len(rows) >= 50
    for seed, _heading, _gloss, topic_cell, lesson_cell in rows:
        topic = topic_cell.strip("`")
        named = [number.strip() for number in lesson_cell.split(",")]
        assert named, topic
        for number in named:
            assert number in lessons, f"{topic}: no lesson {number}"
            assert topic in lessons[number].topics, f"lesson {number} does not list topic {topic}"


def test_every_topic_a_lesson_lists_appears_in_the_table():
    table = {row[3].strip("`") for row in coverage_rows()}
    for lesson in load_all():
        missing = set(lesson.topics) - table
        assert not missing, f"{lesson.slug} lists topics missing from docs/coverage.md: {sorted(missing)}"


def test_every_seed_file_is_covered():
    table_seeds = set()
    for row in coverage_rows():
        table_seeds.update(number.strip() for number in row[0].split(","))
    prefixes = {path.name[:3] for path in SEEDS.glob("*.txt")} if SEEDS.exists() else {"000", "001", "002", "003", "004"}
    assert prefixes <= table_seeds
