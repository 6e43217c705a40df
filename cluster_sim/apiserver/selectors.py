"""Label and field selectors as the Kubernetes API parses and matches them."""
from __future__ import annotations

import re

_SET_EXPRESSION = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")


class SelectorError(ValueError):
    pass


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


def parse_label_selector(text: str | None) -> list[list]:
    """Requirements as [key, operator, values]; operators: =, !=, in, notin, exists, !exists."""
    if not text:
        return []
    requirements = []
    for part in _split_top_level(text):
        part = part.strip()
        for operator in ("!=", "==", "="):
            if operator in part and "(" not in part:
                key, _, value = part.partition(operator)
                requirements.append([key.strip(), "!=" if operator == "!=" else "=", [value.strip()]])
                break
        else:
            match = _SET_EXPRESSION.match(part)
            if not match:
                raise SelectorError(f"unable to parse requirement: {part!r}")
            negated, key, operator, values = match.groups()
            if operator:
                requirements.append([key, operator, [v.strip() for v in values.split(",") if v.strip()]])
            else:
                requirements.append([key, "!exists" if negated else "exists", []])
    return requirements


def labels_match(requirements: list[list], labels: dict | None) -> bool:
    labels = labels or {}
    for key, operator, values in requirements:
        present = key in labels
        value = labels.get(key)
        if operator == "=" and value != values[0]:
            return False
        if operator == "!=" and present and value == values[0]:
            return False
        if operator == "in" and value not in values:
            return False
        if operator == "notin" and present and value in values:
            return False
        if operator == "exists" and not present:
            return False
        if operator == "!exists" and present:
            return False
    return True


def match_label_selector_object(selector: dict | None, labels: dict | None) -> bool:
    """metav1.LabelSelector (matchLabels + matchExpressions); an empty selector matches all."""
    if selector is None:
        return False
    labels = labels if isinstance(labels, dict) else {}
    match_labels = selector.get("matchLabels")
    for key, value in (match_labels if isinstance(match_labels, dict) else {}).items():
        if labels.get(key) != value:
            return False
    expressions = selector.get("matchExpressions")
    for expression in expressions if isinstance(expressions, list) else []:
        # Objects being validated may be malformed: a bad expression simply does not match.
        if not isinstance(expression, dict):
            return False
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") if isinstance(expression.get("values"), list) else []
        present = key in labels
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def parse_field_selector(text: str | None) -> list[list]:
    if not text:
        return []
    requirements = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        for operator in ("!=", "==", "="):
            if operator in part:
                key, _, value = part.partition(operator)
                requirements.append([key.strip(), "!=" if operator == "!=" else "=", value.strip()])
                break
        else:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
    return requirements


def field_value(obj: dict, path: str) -> str:
    value: object = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(part)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fields_match(requirements: list[list], obj: dict) -> bool:
    for path, operator, expected in requirements:
        actual = field_value(obj, path)
        if (actual == expected) != (operator == "="):
            return False
    return True
