"""kubectl's output formats for objects the simulated API returned: tables (the human-readable
printer over a server-side Table), yaml, json, name and jsonpath."""
from __future__ import annotations

import json
import re
from typing import Any

import yaml

from cluster_sim.apiserver.kinds import ResourceInfo
from web.kubeapi import printers


class OutputError(Exception):
    """An output format kubectl would reject, with kubectl's message."""


# --- tables -----------------------------------------------------------------------------------

def escape_cell(text: str) -> str:
    """WriteEscaped: terminal control characters shown harmlessly; a cell ends at a line break."""
    cut = re.search(r"[\f\n\r]", text)
    truncated = cut is not None
    if cut is not None:
        text = text[:cut.start()]
    text = text.replace("\x1b", "^[").replace("\r", "\\r")
    return text + ("..." if truncated else "")


def cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return escape_cell(str(cell))


def table_lines(table: dict, *, wide: bool, with_namespace: bool, show_labels: bool, kind_prefix: str | None,
                headers: bool = True) -> list[str]:
    """The tab-separated lines kubectl's table printer writes for one Table (no rows: nothing)."""
    columns = table["columnDefinitions"]
    rows = table["rows"]
    if not rows:
        return []
    shown = [index for index, col in enumerate(columns) if wide or col.get("priority", 0) == 0]
    name_index = next((i for i, col in enumerate(columns) if col.get("format") == "name" and col.get("type") == "string"), None)
    lines = []
    if headers:
        header = [columns[i]["name"].upper() for i in shown]
        if with_namespace:
            header.insert(0, "NAMESPACE")
        if show_labels:
            header.append("LABELS")
        lines.append("\t".join(header))
    for row in rows:
        cells = list(row["cells"])
        if kind_prefix and name_index is not None:
            cells[name_index] = f"{kind_prefix}/{cells[name_index]}"
        texts = [cell_text(cells[i]) if i < len(cells) else "" for i in shown]
        metadata = ((row.get("object") or {}).get("metadata")) or {}
        if with_namespace:
            texts.insert(0, metadata.get("namespace", ""))
        if show_labels:
            texts.append(printers.format_labels(metadata.get("labels")))
        lines.append("\t".join(texts))
    return lines


def kind_prefix(info: ResourceInfo) -> str:
    """GroupKind in lower case, as kubectl prefixes names: `pod`, `deployment.apps`."""
    return f"{info.kind}.{info.group}".lower() if info.group else info.kind.lower()


# --- yaml / json ------------------------------------------------------------------------------

class KubectlDumper(yaml.SafeDumper):
    """YAML as kubectl prints it (sigs.k8s.io/yaml): sorted keys, lists not indented, strings
    that need quoting in double quotes, multi-line strings as literal blocks."""


def _represent_str(dumper: KubectlDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not value.endswith(" "):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    analysis = dumper.analyze_scalar(value)
    plain = analysis.allow_block_plain and value != ""
    implicit = dumper.resolve(yaml.ScalarNode, value, (True, False)) == "tag:yaml.org,2002:str"
    style = None if plain and implicit else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


KubectlDumper.add_representer(str, _represent_str)


def to_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=KubectlDumper, default_flow_style=False, sort_keys=True, allow_unicode=True,
                     width=80)


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def as_list(items: list[dict]) -> dict:
    """What kubectl prints for several objects in yaml/json: a v1 List."""
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


# --- jsonpath ---------------------------------------------------------------------------------

TOKEN = re.compile(r"\{(.*?)\}(?!\})", re.S)


def jsonpath(template: str, data: Any) -> str:
    """A useful subset of kubectl's JSONPath: fields, [n], [*], [?(@.a=="b")], range/end, literals."""
    template = template.strip()
    if template.startswith("'") and template.endswith("'") or template.startswith('"') and template.endswith('"'):
        template = template[1:-1]
    if "{" not in template:
        template = "{" + template + "}"
    parts = _split_template(template)
    output, _ = _render(parts, 0, [data], stop_at_end=False)
    return output


def _split_template(template: str) -> list[list[str]]:
    parts: list[list[str]] = []
    position = 0
    for _ in range(len(template) + 1):
        start = template.find("{", position)
        if start < 0:
            break
        if start > position:
            parts.append(["text", template[position:start]])
        end = _matching_brace(template, start)
        parts.append(["expr", template[start + 1:end].strip()])
        position = end + 1
    if position < len(template):
        parts.append(["text", template[position:]])
    return parts


def _matching_brace(template: str, start: int) -> int:
    in_quote = None
    for index in range(start + 1, len(template)):
        char = template[index]
        if in_quote:
            if char == in_quote and template[index - 1] != "\\":
                in_quote = None
        elif char in "\"'":
            in_quote = char
        elif char == "}":
            return index
    raise OutputError(f"error parsing jsonpath {template}, unclosed action")


def _render(parts: list[list[str]], index: int, contexts: list[Any], *, stop_at_end: bool) -> tuple[str, int]:
    output: list[str] = []
    while index < len(parts):
        kind, text = parts[index]
        if kind == "text":
            output.append(text)
        elif text == "end":
            if stop_at_end:
                return "".join(output), index
            raise OutputError("error parsing jsonpath: not in range, nothing to end")
        elif text.startswith("range "):
            items = _evaluate(text[len("range "):].strip(), contexts[-1])
            body_end = index
            for item in items:
                rendered, body_end = _render(parts, index + 1, contexts + [item], stop_at_end=True)
                output.append(rendered)
            if not items:
                _, body_end = _render(parts, index + 1, contexts + [None], stop_at_end=True)
            index = body_end
        elif text.startswith('"') or text.startswith("'"):
            output.append(bytes(text[1:-1], "utf-8").decode("unicode_escape"))
        else:
            values = _evaluate(text, contexts[-1])
            output.append(" ".join(_format_value(value) for value in values))
        index += 1
    return "".join(output), index


def _format_value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


FIELD_PART = re.compile(r"\.\.?([A-Za-z0-9_\-/]+|\*)")


def _evaluate(expression: str, root: Any) -> list[Any]:
    expression = expression.strip()
    if expression in ("", "@", "$", "."):
        return [root]
    if expression.startswith("$"):
        expression = expression[1:]
    if expression.startswith("@"):
        expression = expression[1:]
    if not expression.startswith(".") and not expression.startswith("["):
        expression = "." + expression
    values = [root]
    position = 0
    for _ in range(len(expression) + 1):
        if position >= len(expression):
            break
        if expression[position] == "[":
            end = _closing_bracket(expression, position)
            values = _step(values, None, expression[position + 1:end])
            position = end + 1
            continue
        match = FIELD_PART.match(expression, position)
        if match is None:
            raise OutputError(f"error parsing jsonpath {{{expression}}}, unrecognized character in action")
        position = match.end()
        values = _step(values, match.group(1), None)
    return values


def _closing_bracket(expression: str, start: int) -> int:
    depth, quote = 0, None
    for index in range(start, len(expression)):
        char = expression[index]
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
    raise OutputError(f"error parsing jsonpath {{{expression}}}, unterminated array")


def _step(values: list[Any], field: str | None, bracket: str | None) -> list[Any]:
    result: list[Any] = []
    for value in values:
        if field is not None:
            if field == "*":
                result.extend(value.values() if isinstance(value, dict) else value if isinstance(value, list) else [])
            elif isinstance(value, dict) and field in value:
                result.append(value[field])
            continue
        bracket = (bracket or "").strip()
        if not isinstance(value, list):
            if isinstance(value, dict) and bracket.strip("'\"") in value:
                result.append(value[bracket.strip("'\"")])
            continue
        if bracket == "*":
            result.extend(value)
        elif bracket.startswith("?(") and bracket.endswith(")"):
            result.extend(item for item in value if _filter_matches(bracket[2:-1], item))
        elif ":" in bracket:
            start_text, _, end_text = bracket.partition(":")
            result.extend(value[int(start_text) if start_text else None:int(end_text) if end_text else None])
        elif re.fullmatch(r"-?\d+", bracket):
            position = int(bracket)
            if -len(value) <= position < len(value):
                result.append(value[position])
            else:
                raise OutputError("array index out of bounds: index %d, length %d" % (position, len(value)))
    return result


def _filter_matches(condition: str, item: Any) -> bool:
    match = re.fullmatch(r"\s*(@[^=!<>]*)\s*(==|!=)\s*(.+?)\s*", condition)
    if match is None:
        return bool(_evaluate(condition.strip(), item))
    found = _evaluate(match.group(1), item)
    expected = match.group(3).strip()
    if expected[:1] in "\"'":
        expected = expected[1:-1]
    equal = any(_format_value(value) == expected for value in found)
    return equal if match.group(2) == "==" else not equal
