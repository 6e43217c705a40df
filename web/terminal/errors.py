"""Errors as kubectl prints them (k8s.io/kubectl/pkg/cmd/util: StandardErrorMessage, checkErr)."""
from __future__ import annotations

from typing import Any

from cluster_sim.client import REFUSED_ERROR


class CommandError(Exception):
    """A failed command: ``text`` is what kubectl prints (stderr), exit code 1 unless given."""

    def __init__(self, text: str, exit_code: int = 1):
        super().__init__(text)
        self.text = text if text.endswith("\n") else text + "\n"
        self.exit_code = exit_code


def multiline_error(prefix: str, errors: list[str]) -> str:
    if len(errors) == 1:
        return f"{prefix}{errors[0]}\n"
    return prefix + "\n" + "".join(f"* {error}\n" for error in errors)


def api_error_text(code: int, body: Any) -> str:
    """What kubectl prints for an error answer of the API."""
    if code == 0 and isinstance(body, dict) and body.get("address"):
        return connection_error_text(body)
    if code in (0, 504) or body is None:
        return ("Unable to connect to the server: the simulated kube-apiserver did not answer "
                "(is it down, or can it not reach etcd?)\n")
    if not isinstance(body, dict) or body.get("kind") != "Status":
        return f"Error from server: {body}\n"
    reason = body.get("reason") or ""
    message = body.get("message") or ""
    details = body.get("details") or {}
    if reason == "Invalid":
        causes = details.get("causes") or []
        prefix = "The request is invalid"
        if details.get("kind") or details.get("name"):
            prefix = f'The {details.get("kind", "")} "{details.get("name", "")}" is invalid'
        elif message and not causes:
            prefix += ": " + message
        if causes:
            return multiline_error(prefix + ": ", [f"{c.get('field', '')}: {c.get('message', '')}" for c in causes])
        return prefix + "\n"
    if reason == "Unauthorized":
        return f"error: You must be logged in to the server ({message})\n"
    if reason:
        return f"Error from server ({reason}): {message}\n"
    return f"Error from server: {message}\n"


def connection_error_text(error: dict) -> str:
    """kubectl's words for a request that never reached a server (StandardErrorMessage on a
    *url.Error): a refused connection names the host; anything else prints the dial error."""
    if error.get("error") == REFUSED_ERROR:
        return (f"The connection to the server {error['address']} was refused - "
                "did you specify the right host or port?\n")
    return f"Unable to connect to the server: {error.get('message') or 'dial tcp ' + error['address'] + ': i/o timeout'}\n"
