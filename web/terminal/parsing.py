"""The kubectl command line: words and flags, parsed the way kubectl's cobra/pflag setup does."""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from .errors import CommandError

# Flags that take a value (long name -> canonical name); every other flag is a switch.
VALUE_FLAGS = {
    "namespace": "namespace", "output": "output", "selector": "selector", "field-selector": "field-selector",
    "filename": "filename", "image": "image", "replicas": "replicas", "port": "port", "target-port": "target-port",
    "type": "type", "name": "name", "to-revision": "to-revision", "revision": "revision", "container": "container",
    "tail": "tail", "grace-period": "grace-period", "timeout": "timeout", "protocol": "protocol",
    "cascade": "cascade", "dry-run": "dry-run", "since": "since", "restart": "restart", "labels": "labels",
    "api-group": "api-group", "sort-by": "sort-by", "context": "context", "kubeconfig": "kubeconfig",
    "current-replicas": "current-replicas", "chunk-size": "chunk-size", "cluster-ip": "cluster-ip",
    "external-ip": "external-ip", "env": "env", "api-version": "api-version", "field-manager": "field-manager",
}
SHORT_FLAGS = {"n": "namespace", "o": "output", "l": "selector", "f": "filename", "c": "container",
               "A": "all-namespaces", "w": "watch", "h": "help", "p": "previous", "R": "recursive",
               "i": "stdin", "t": "tty", "q": "quiet"}
SWITCHES = {"all-namespaces", "watch", "help", "show-labels", "all", "overwrite", "ignore-daemonsets",
            "delete-emptydir-data", "force", "previous", "recursive", "wide", "no-headers", "local",
            "watch-only", "ignore-not-found", "short", "namespaced", "record", "follow", "timestamps",
            "server-side", "disable-eviction", "list", "stdin", "tty", "quiet"}


@dataclass
class CommandLine:
    words: list[str] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)
    # `kubectl label pods x a=b c-`: key=value words after the names are kept in order.
    stdin: str | None = None

    def flag(self, name: str, default: str | None = None) -> str | None:
        return self.flags.get(name, default)

    def switch(self, name: str) -> bool:
        value = self.flags.get(name)
        return value is not None and value.lower() not in ("false", "0")


def split_input(text: str) -> tuple[str, str | None]:
    """The command line and what follows it (the stdin of `apply -f -`, ended by a line `EOF`)."""
    lines = text.replace("\r\n", "\n").split("\n")
    first = lines[0].strip()
    if len(lines) == 1:
        return first, None
    body = lines[1:]
    for index, line in enumerate(body):
        if line.strip() == "EOF":
            body = body[:index]
            break
    return first, "\n".join(body) + "\n"


def parse(line: str) -> CommandLine:
    try:
        tokens = shlex.split(line, comments=False, posix=True)
    except ValueError as error:
        raise CommandError(f"error: cannot parse the command line: {error}")
    if tokens and tokens[0] in ("kubectl", "k"):
        tokens = tokens[1:]
    command = CommandLine()
    index = 0
    for _ in range(len(tokens) + 1):
        if index >= len(tokens):
            break
        token = tokens[index]
        index += 1
        if token == "--":
            command.words.extend(tokens[index:])
            break
        if token.startswith("--") and len(token) > 2:
            name, has_value, value = token[2:].partition("=")
            if name in VALUE_FLAGS and not has_value:
                if index >= len(tokens):
                    raise CommandError(f"error: flag needs an argument: --{name}")
                value = tokens[index]
                index += 1
            command.flags[VALUE_FLAGS.get(name, name)] = value if (has_value or name in VALUE_FLAGS) else "true"
        elif token.startswith("-") and len(token) > 1 and not token[1].isdigit():
            index = _short_flags(token, tokens, index, command)
        else:
            command.words.append(token)
    return command


def _short_flags(token: str, tokens: list[str], index: int, command: CommandLine) -> int:
    letters = token[1:]
    for position, letter in enumerate(letters):
        name = SHORT_FLAGS.get(letter)
        if name is None:
            raise CommandError(f"error: unknown shorthand flag: '{letter}' in {token}")
        if name in VALUE_FLAGS:
            rest = letters[position + 1:]
            if rest.startswith("="):
                rest = rest[1:]
            if rest:
                command.flags[name] = rest
                return index
            if index >= len(tokens):
                raise CommandError(f"error: flag needs an argument: '{letter}' in {token}")
            command.flags[name] = tokens[index]
            return index + 1
        command.flags[name] = "true"
    return index
