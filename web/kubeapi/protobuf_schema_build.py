"""Build protobuf_schema.json from Kubernetes' generated.proto files (run by hand when versions move).

    python -m web.kubeapi.protobuf_schema_build OUT.json FILE.proto...

The proto files are those of k8s.io/api (core, apps, policy, autoscaling, coordination, discovery,
events, scheduling at v1) and k8s.io/apimachinery (meta/v1, runtime, intstr, resource). Only the
wire schema is kept: for each message, field number -> [JSON name, type, label]. kubectl sends
request bodies of typed clients (create deployment, expose, drain's evictions...) as protobuf.
"""
from __future__ import annotations

import json
import re
import sys

PACKAGE = re.compile(r"^package\s+([\w.]+)\s*;", re.M)
MESSAGE = re.compile(r"^message\s+(\w+)\s*\{(.*?)^\}", re.M | re.S)
FIELD = re.compile(r"^\s*(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)", re.M)
MAP_FIELD = re.compile(r"^\s*map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)", re.M)
SCALARS = ("bool", "bytes", "int32", "int64", "string", "double", "float", "uint32", "uint64")


def qualify(type_name: str, package: str) -> str:
    if type_name in SCALARS:
        return type_name
    return type_name[1:] if type_name.startswith(".") else f"{package}.{type_name}"


def parse(text: str) -> dict[str, dict[str, list]]:
    package = PACKAGE.search(text).group(1)
    messages: dict[str, dict[str, list]] = {}
    for match in MESSAGE.finditer(text):
        body = "\n".join(line for line in match.group(2).splitlines() if not line.strip().startswith("//"))
        fields: dict[str, list] = {}
        for label, type_name, name, number in FIELD.findall(body):
            fields[number] = [name, qualify(type_name, package), label]
        for key_type, value_type, name, number in MAP_FIELD.findall(body):
            fields[number] = [name, qualify(value_type, package), "map"]
        messages[f"{package}.{match.group(1)}"] = fields
    return messages


def main(arguments: list[str]) -> None:
    output, sources = arguments[0], arguments[1:]
    schema: dict = {}
    for source in sources:
        with open(source, encoding="utf-8") as handle:
            schema.update(parse(handle.read()))
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(schema, handle, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
