"""Run every bench/bench_*.py in turn, printing its output.

Each bench gets `--quick` (small sizes, for CI and quick checks) unless BENCH_FULL=1 is set.
Exits non-zero when any bench failed.
"""
import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent


def bench_scripts() -> list[Path]:
    return sorted(BENCH_DIR.glob("bench_*.py"))


def run_bench(script: Path, *, quick: bool) -> int:
    arguments = [sys.executable, str(script)] + (["--quick"] if quick else [])
    print(f"=== {script.relative_to(REPO_DIR)} {'--quick' if quick else '(full)'}", flush=True)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_DIR), os.environ.get("PYTHONPATH")])))
    return subprocess.run(arguments, cwd=REPO_DIR, env=environment, check=False).returncode


def main() -> int:
    quick = os.environ.get("BENCH_FULL") != "1"
    scripts = bench_scripts()
    if not scripts:
        print("run_all: no bench/bench_*.py found")
        return 0
    failed = [script.name for script in scripts if run_bench(script, quick=quick) != 0]
    print(f"=== {len(scripts) - len(failed)} benches ran, {len(failed)} failed{': ' + ', '.join(failed) if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
