"""What the benches read about processes (/proc) and how they summarise samples."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    # The command name may hold spaces and parentheses: split after its closing one.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def cpu_seconds_with_children(pid: int) -> float:
    """The process, its live children and its children already waited for (fields 16 and 17):
    a PostgreSQL postmaster and the backends it forks."""
    fields = _stat_fields(pid)
    total = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / CLOCK_TICKS_PER_S
    return total + sum(unless_exited(cpu_seconds, child) for child in children_of(pid))


def unless_exited(read: Callable[[int], float], pid: int) -> float:
    """``read(pid)``, or 0 for a process that exited since it was listed (a PostgreSQL backend of
    a closed connection)."""
    try:
        return read(pid)
    except (OSError, IndexError, ValueError):
        return 0.0


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry.name))[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # exited meanwhile
    return found


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def proportional_mib(pid: int) -> float:
    """PSS: shared pages split between the processes sharing them (PostgreSQL's shared buffers
    would otherwise count once per backend)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resident_mib(pid)


def proportional_mib_with_children(pid: int) -> float:
    return proportional_mib(pid) + sum(unless_exited(proportional_mib, child) for child in children_of(pid))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
