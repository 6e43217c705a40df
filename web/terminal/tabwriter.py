"""Column alignment as Go's text/tabwriter does it, which is what kubectl prints through.

Cells are tab-terminated; the last cell of a line is not part of any column.  A column's width
is its widest cell plus the padding (at least ``min_width``) and holds only over a block of
consecutive lines that all have a cell in that column.  A line without any tab ends every block
(the writer flushes there), exactly like the Go writer.
"""
from __future__ import annotations


class TabWriter:
    def __init__(self, *, min_width: int, padding: int):
        self.min_width = min_width
        self.padding = padding
        self.pending: list[list[str]] = []
        self.output: list[str] = []
        self.partial = ""

    def write(self, text: str) -> None:
        text = self.partial + text
        lines = text.split("\n")
        self.partial = lines.pop()
        for line in lines:
            cells = line.split("\t")
            self.pending.append(cells)
            if len(cells) == 1:
                self.flush()

    def flush(self) -> None:
        if self.partial:
            self.pending.append(self.partial.split("\t"))
            self.partial = ""
            lines = self.pending
            self.pending = []
            rendered = self.format(lines)
            # The unterminated last line carries no newline.
            self.output.append(rendered[:-1])
            return
        self.output.append(self.format(self.pending))
        self.pending = []

    def text(self) -> str:
        self.flush()
        return "".join(self.output)

    def format(self, lines: list[list[str]]) -> str:
        out: list[str] = []
        self._format(lines, 0, len(lines), [], out)
        return "".join(out)

    def _format(self, lines: list[list[str]], start: int, end: int, widths: list[int], out: list[str]) -> None:
        column = len(widths)
        line0 = start
        this = start
        while this < end:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            self._write_lines(lines, line0, this, widths, out)
            line0 = this
            width = self.min_width
            while this < end and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + self.padding)
                this += 1
            self._format(lines, line0, this, widths + [width], out)
            line0 = this
        self._write_lines(lines, line0, end, widths, out)

    @staticmethod
    def _write_lines(lines: list[list[str]], start: int, end: int, widths: list[int], out: list[str]) -> None:
        for line in lines[start:end]:
            for index, cell in enumerate(line):
                out.append(cell)
                if index < len(widths):
                    out.append(" " * (widths[index] - len(cell)))
            out.append("\n")


def align(text: str, *, min_width: int, padding: int) -> str:
    writer = TabWriter(min_width=min_width, padding=padding)
    writer.write(text)
    return writer.text()


def kubectl_table(text: str) -> str:
    """kubectl get's writer: minimum width 6, padding 3."""
    return align(text, min_width=6, padding=3)


def describe_text(text: str) -> str:
    """kubectl describe's writer: minimum width 0, padding 2."""
    return align(text, min_width=0, padding=2)
