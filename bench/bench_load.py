"""300 concurrent learners, each with a live cluster streaming at 1x and periodic actions (issue 7).

Each learner is a session of its own (a cookie jar) that creates a `basic` cluster through the REST
API (POST /api/clusters/), opens the live view's websocket (/ws/clusters/<id>/?lang=en) and keeps
it open, reading everything the server pushes, as a browser would. Learners join gradually
(RAMP_PER_S a second); the ramp is reported on its own. The measured window opens once the
server has caught up with the clusters' boot: at least SETTLE_MIN_S after the last learner joined,
when CATCH_UP_SHARE of the learners' clocks ran at CATCH_UP_RATE or faster over the last
CATCH_UP_SPAN_S (or after SETTLE_MAX_S at most; the report says which, and how long it took).
Actions sent before the window (while learners join and their clusters boot) are reported on
their own too.

Every ACTION_PERIOD_S (jittered, seeded) each learner sends `{"command": "action", "action":
{"action": "scale", "target": "web", "replicas": 4 | 3}}` over its socket (alternating, so two
consecutive actions of a learner are told apart). An applied action is the `action` event of
docs/events.md whose payload is that action: its latency is the wall time from sending the command
to the first `events` push carrying that event. Errors: a failed result, a socket that closed, an
HTTP error, or no such event within EVENT_GUARD_S.

Measured over the window: latency p50/p99/max; how fast the live clocks ran (the `now` of each
learner's events pushes against the wall clock: 1.00 means the simulation kept up with 1x); CPU
(% of one core, /proc/<pid>/stat) and memory (RSS; PostgreSQL: PSS of the postmaster and its
backends) of every server process, and the load generator's own CPU: it runs on the same cores as
the server.

Mode A: one daphne, embedded (SQLite, in-memory channel layer). Mode B: two production daphne
processes (DJANGO_DEBUG=0, PostgreSQL, Redis channel layer), learners split half and half between
them as the proxy's cookie affinity would. Mode A also measures memory per idle cluster (K clusters
created with no socket) and per connected learner.

    .venv/bin/python bench/bench_load.py [--learners 300] [--window-s 120] [--runs 3] [--mode A|B|C|AB...] [--quick]

--quick (what `make bench` runs): 300 learners, a 30 s window, 1 run. BENCH_FULL: 3 runs with a
120 s window; medians are printed with the range.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field

import aiohttp
from live_server import daphne_server, production_servers
from measure import (cpu_seconds, cpu_seconds_with_children, percentile, proportional_mib_with_children,
                     resident_mib)

LEARNERS = 300
QUICK_WINDOW_S = 30
FULL_WINDOW_S = 120
FULL_RUNS = 3
RAMP_PER_S = 15
JOIN_CONCURRENCY = 6
MAX_CREATE_ATTEMPTS = 30
# Past the ramp and the clusters' boot: 300 clusters booting at once (~3,000 events each in their
# first 20 virtual seconds) keep one process behind for a while after the last join; how long is
# measured (the window opens once the clocks run at 1x again). Actions sent before the window are
# reported on their own ("while joining and booting").
SETTLE_MIN_S = 10
SETTLE_MAX_S = 180
CATCH_UP_SPAN_S = 10
CATCH_UP_RATE = 0.95
CATCH_UP_SHARE = 0.99
ACTION_PERIOD_S = 10.0
ACTION_JITTER = 0.2  # of the period, either way
EVENT_GUARD_S = 10.0
SOCKET_TIMEOUT_S = 60
IDLE_CLUSTERS = 30
WARM_UP_CLUSTERS = 3
SEED = 7
GOAL_P99_MS = 100
SCENARIO = "basic"
DEPLOYMENT = "web"
REPLICAS = (4, 3)
EVENTS_PUSH_PREFIX = '{"type":"events","now":'  # web/consumers.animation_message


def new_session() -> aiohttp.ClientSession:
    # unsafe: keep cookies for an IP address host (127.0.0.1).
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Accept-Language": "en"})


async def create_cluster(session: aiohttp.ClientSession, base_url: str, tally: "Tally") -> str | None:
    """POST /api/clusters/ in a session that has no cookie yet: no CSRF token is needed (docs/api.md).
    Answers 429 are retried after Retry-After (every learner here shares one address)."""
    for _attempt in range(MAX_CREATE_ATTEMPTS):
        try:
            async with session.post(base_url + "/api/clusters/", json={"scenario": SCENARIO},
                                    headers={"Origin": base_url}) as answer:
                body = await answer.text()
                if answer.status == 201:
                    return json.loads(body)["id"]
                if answer.status != 429:
                    tally.http_errors.append(f"{answer.status} {body[:200]}")
                    return None
                tally.throttled += 1
                await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
        except aiohttp.ClientError as failure:
            tally.http_errors.append(repr(failure))
            return None
    tally.http_errors.append(f"still 429 after {MAX_CREATE_ATTEMPTS} attempts")
    return None


@dataclass
class Plan:
    learners: int
    window_s: float
    settle_s: float
    action_period_s: float
    seed: int


@dataclass
class Tally:
    """Everything counted, for the ramp and for the window separately."""
    throttled: int = 0
    http_errors: list[str] = field(default_factory=list)
    join_s: list[float] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    failed_results: list[str] = field(default_factory=list)
    closed_sockets: int = 0
    close_reasons: list[str] = field(default_factory=list)
    missing_events: int = 0
    pushes: int = 0
    pushed_bytes: int = 0

    def errors(self) -> int:
        return len(self.http_errors) + len(self.failed_results) + self.closed_sockets + self.missing_events


@dataclass
class Pending:
    replicas: int
    sent_s: float
    tally: "Tally | None"  # where its latency counts: the ramp's (before the window), the window's, or none

    def counted(self, bench: "LoadRun") -> bool:
        return self.tally is bench.window


class Learner:
    def __init__(self, index: int, base_url: str, rng: random.Random, socket_base_url: str | None = None):
        self.index = index
        self.base_url = base_url
        # Mode C: the socket goes to the process that does not hold the cluster (web/tunnel.py).
        self.socket_base_url = socket_base_url or base_url
        self.rng = rng
        self.session = new_session()
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.pending: Pending | None = None
        self.actions_sent = 0
        self.tasks: list[asyncio.Task] = []
        # (wall s, virtual ms) of the first and the latest events push in the window, and of the
        # latest pushes at any time.
        self.clock_first: tuple[float, int] | None = None
        self.clock_last: tuple[float, int] | None = None
        self.recent_clocks: collections.deque = collections.deque(maxlen=64)

    async def join(self, ramp: Tally) -> bool:
        started = time.perf_counter()
        cluster_id = await create_cluster(self.session, self.base_url, ramp)
        if cluster_id is None:
            return False
        url = f"{self.socket_base_url.replace('http://', 'ws://')}/ws/clusters/{cluster_id}/?lang=en"
        try:
            self.socket = await self.session.ws_connect(url, headers={"Origin": self.socket_base_url}, max_msg_size=0,
                                                        timeout=aiohttp.ClientWSTimeout(ws_close=10))
        except aiohttp.ClientError as failure:
            ramp.http_errors.append(f"websocket: {failure!r}")
            return False
        ramp.join_s.append(time.perf_counter() - started)
        return True

    def start(self, bench: "LoadRun") -> None:
        self.tasks = [asyncio.ensure_future(self.read(bench)), asyncio.ensure_future(self.act(bench))]

    async def read(self, bench: "LoadRun") -> None:
        while not bench.stopping:
            message = await self.socket.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                if not bench.stopping:
                    bench.current().closed_sockets += 1
                    bench.current().close_reasons.append(
                        f"socket {message.type.name} code {self.socket.close_code} {message.data!r} {message.extra!r}"[:200])
                return
            self.on_text(message.data, bench)

    def on_text(self, data: str, bench: "LoadRun") -> None:
        tally = bench.current()
        tally.pushes += 1
        tally.pushed_bytes += len(data)
        if not data.startswith("{"):
            return  # HTML fragments for htmx
        if data.startswith(EVENTS_PUSH_PREFIX):
            self.note_clock(data, in_window=bench.in_window())
        if data.startswith('{"type": "result"'):
            result = json.loads(data)
            if not result["ok"] and (self.pending is None or self.pending.counted(bench)):
                bench.window.failed_results.append(result["message"][:200])
            return
        # Cheap test before parsing: the kind "action" is an array item of an events push.
        if self.pending is None or '"action",' not in data:
            return
        push = json.loads(data)
        if push.get("type") != "events":
            return
        for _time_ms, _seq, kind, _source, _target, payload in push["events"]:
            if kind == "action" and payload.get("action") == "scale" and payload.get("replicas") == self.pending.replicas:
                latency_s = time.perf_counter() - self.pending.sent_s
                if self.pending.counted(bench) and latency_s > EVENT_GUARD_S:
                    bench.window.missing_events += 1
                elif self.pending.tally is not None:
                    self.pending.tally.latencies_s.append(latency_s)
                self.pending = None
                return

    def note_clock(self, data: str, *, in_window: bool) -> None:
        """The virtual time an events push carries, read without parsing the whole push."""
        head = data[len(EVENTS_PUSH_PREFIX):len(EVENTS_PUSH_PREFIX) + 20]
        digits = head.split(",", 1)[0]
        if not digits.isdigit():
            return
        sample = (time.perf_counter(), int(digits))
        self.recent_clocks.append(sample)
        if in_window:
            self.clock_last = sample
            self.clock_first = self.clock_first or sample

    def keeps_up(self, now_s: float) -> bool:
        """Its clock ran at CATCH_UP_RATE or faster over the last CATCH_UP_SPAN_S, as its pushes
        showed (a learner whose pushes stopped coming does not keep up)."""
        span = [sample for sample in self.recent_clocks if sample[0] >= now_s - CATCH_UP_SPAN_S]
        if len(span) < 2 or now_s - span[-1][0] > 2 or span[-1][0] - span[0][0] < 0.8 * CATCH_UP_SPAN_S:
            return False
        return (span[-1][1] - span[0][1]) / 1000 / (span[-1][0] - span[0][0]) >= CATCH_UP_RATE

    def clock_rate(self) -> float | None:
        """Virtual seconds per wall second over the window, as the pushes showed it: a cluster
        whose simulation cannot keep up with 1x runs slower (its clock waits, web/runtime.py)."""
        if self.clock_first is None or self.clock_last is None:
            return None
        wall_s = self.clock_last[0] - self.clock_first[0]
        return (self.clock_last[1] - self.clock_first[1]) / 1000 / wall_s if wall_s > 1 else None

    async def act(self, bench: "LoadRun") -> None:
        period_s = bench.plan.action_period_s
        await asyncio.sleep(self.rng.uniform(0, period_s))
        while not bench.stopping:
            if self.pending is not None and time.perf_counter() - self.pending.sent_s > EVENT_GUARD_S:
                if self.pending.counted(bench):
                    bench.window.missing_events += 1
                self.pending = None
            if self.pending is None and bench.may_act():
                replicas = REPLICAS[self.actions_sent % 2]
                self.actions_sent += 1
                self.pending = Pending(replicas, time.perf_counter(), bench.tally_for_new_action())
                try:
                    await self.socket.send_str(json.dumps({"command": "action", "action": {
                        "action": "scale", "target": DEPLOYMENT, "replicas": replicas}}))
                except (aiohttp.ClientError, ConnectionError) as failure:
                    bench.current().http_errors.append(f"send: {failure!r}")
                    return
            await asyncio.sleep(period_s * (1 + self.rng.uniform(-ACTION_JITTER, ACTION_JITTER)))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close()
        await self.session.close()


@dataclass
class ServerProcess:
    label: str
    pid: int
    with_children: bool = False  # PostgreSQL: the postmaster and its backends

    def cpu_s(self) -> float:
        return cpu_seconds_with_children(self.pid) if self.with_children else cpu_seconds(self.pid)

    def memory_mib(self) -> float:
        return proportional_mib_with_children(self.pid) if self.with_children else resident_mib(self.pid)


class LoadRun:
    """One run: learners ramp up, then a measured window."""

    def __init__(self, base_urls: list[str], processes: list[ServerProcess], plan: Plan, *, forwarded: bool = False):
        self.base_urls = base_urls
        self.forwarded = forwarded
        self.processes = processes
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.ramp = Tally()
        self.window = Tally()
        self.window_open = False
        self.window_closing = False
        self.stopping = False
        self.learners: list[Learner] = []

    def current(self) -> Tally:
        return self.window if self.window_open else self.ramp

    def in_window(self) -> bool:
        return self.window_open and not self.window_closing

    def tally_for_new_action(self) -> Tally | None:
        if self.window_closing:
            return None
        return self.window if self.window_open else self.ramp

    def may_act(self) -> bool:
        return not self.window_closing

    async def run(self) -> dict:
        ramp_started = time.perf_counter()
        await self.join_all()
        ramp_s = time.perf_counter() - ramp_started
        catch_up_s = await self.wait_until_caught_up()
        cpu_before = {process.label: process.cpu_s() for process in self.processes}
        generator_before = cpu_seconds(os.getpid())
        self.window_open, started = True, time.perf_counter()
        await asyncio.sleep(self.plan.window_s)
        self.window_closing = True  # no new actions; those in flight get their guard time
        elapsed = time.perf_counter() - started
        cpu = {label: (process.cpu_s() - cpu_before[label]) / elapsed
               for label, process in ((process.label, process) for process in self.processes)}
        generator_cpu = (cpu_seconds(os.getpid()) - generator_before) / elapsed
        memory = {process.label: process.memory_mib() for process in self.processes}
        for _wait in range(int(EVENT_GUARD_S * 10)):
            if all(learner.pending is None or not learner.pending.counted(self) for learner in self.learners):
                break
            await asyncio.sleep(0.1)
        self.window.missing_events += sum(1 for learner in self.learners
                                          if learner.pending is not None and learner.pending.counted(self))
        self.stopping = True
        await asyncio.gather(*(learner.close() for learner in self.learners))
        clock_rates = [rate for rate in (learner.clock_rate() for learner in self.learners) if rate is not None]
        return {"clock_rates": clock_rates, "ramp_s": ramp_s, "catch_up_s": catch_up_s,
                "ramp": self.ramp, "window": self.window, "window_s": elapsed,
                "cpu": cpu, "generator_cpu": generator_cpu, "memory": memory, "joined": len(self.learners)}

    async def wait_until_caught_up(self) -> float | None:
        """Seconds from the last join until CATCH_UP_SHARE of the clocks keep up (at least
        SETTLE_MIN_S); None when that did not happen within the plan's settle_s."""
        joined_s = time.perf_counter()
        await asyncio.sleep(SETTLE_MIN_S)
        while time.perf_counter() - joined_s < self.plan.settle_s:
            now_s = time.perf_counter()
            keeping_up = sum(1 for learner in self.learners if learner.keeps_up(now_s))
            if keeping_up >= CATCH_UP_SHARE * max(1, len(self.learners)):
                return now_s - joined_s
            await asyncio.sleep(1)
        return None

    async def join_all(self) -> None:
        gate = asyncio.Semaphore(JOIN_CONCURRENCY)
        started = time.perf_counter()

        async def join(index: int) -> None:
            await asyncio.sleep(max(0.0, started + index / RAMP_PER_S - time.perf_counter()))
            base_url = self.base_urls[index % len(self.base_urls)]
            socket_base_url = self.base_urls[(index + 1) % len(self.base_urls)] if self.forwarded else None
            learner = Learner(index, base_url, random.Random(self.rng.random()), socket_base_url)
            async with gate:
                joined = await learner.join(self.ramp)
            if joined:
                self.learners.append(learner)
                learner.start(self)
            else:
                await learner.session.close()

        await asyncio.gather(*(join(index) for index in range(self.plan.learners)))


# --- memory per idle cluster -------------------------------------------------------------------

IDLE_ADVANCE = "2m"


async def create_idle_clusters(base_url: str, count: int) -> list[tuple[aiohttp.ClientSession, str]]:
    """Clusters in sessions of their own, no socket opened: nobody looks, nothing advances them."""
    tally = Tally()
    sessions = []
    for _index in range(count):
        session = new_session()
        cluster_id = await create_cluster(session, base_url, tally)
        if cluster_id is None:
            await session.close()
            continue
        sessions.append((session, cluster_id))
    return sessions


async def use_once(session: aiohttp.ClientSession, cluster_id: str, base_url: str) -> None:
    """Run the cluster IDLE_ADVANCE of virtual time (it boots: nodes, pods), as a learner who
    used it and left; unsafe requests with a session cookie send the CSRF token (docs/api.md)."""
    csrf = next((cookie.value for cookie in session.cookie_jar if cookie.key == "csrftoken"), "")
    async with session.post(f"{base_url}/api/clusters/{cluster_id}/clock/", json={"advance": IDLE_ADVANCE},
                            headers={"Origin": base_url, "X-CSRFToken": csrf}) as answer:
        if answer.status != 200:
            raise RuntimeError(f"advance answered {answer.status}: {(await answer.text())[:200]}")


async def idle_cluster_memory(base_url: str, pid: int) -> dict:
    warm_up = await create_idle_clusters(base_url, WARM_UP_CLUSTERS)  # imports, templates, first allocations
    for session, cluster_id in warm_up:
        await use_once(session, cluster_id, base_url)
    await asyncio.sleep(1)
    before = resident_mib(pid)
    sessions = await create_idle_clusters(base_url, IDLE_CLUSTERS)
    await asyncio.sleep(1)
    created = resident_mib(pid)
    for session, cluster_id in sessions:
        await use_once(session, cluster_id, base_url)
    await asyncio.sleep(1)
    used = resident_mib(pid)
    for session, _cluster_id in warm_up + sessions:
        await session.close()
    count = max(1, len(sessions))
    return {"clusters": len(sessions), "new_mib": (created - before) / count, "used_mib": (used - before) / count}


# --- the modes ---------------------------------------------------------------------------------

async def mode_a(plan: Plan, launcher: list[str] | None = None) -> dict:
    with daphne_server(prefix="bench-load-", launcher=launcher) as (base_url, pid):
        idle = await idle_cluster_memory(base_url, pid)
        rss_before = resident_mib(pid)
        result = await LoadRun([base_url], [ServerProcess("daphne", pid)], plan).run()
    result["idle"] = idle
    result["per_learner_mib"] = (result["memory"]["daphne"] - rss_before) / max(1, result["joined"])
    return result


async def mode_b(plan: Plan, *, forwarded: bool = False) -> dict:
    with production_servers(processes=2) as servers:
        processes = [ServerProcess(f"daphne {index + 1}", pid) for index, pid in enumerate(servers.daphne_pids)]
        processes += [ServerProcess("redis", servers.redis_pid),
                      ServerProcess("postgresql", servers.postgres_pid, with_children=True)]
        return await LoadRun(servers.base_urls, processes, plan, forwarded=forwarded).run()


async def mode_c(plan: Plan) -> dict:
    return await mode_b(plan, forwarded=True)


# --- report --------------------------------------------------------------------------------------

def summary(result: dict) -> dict:
    window, ramp = result["window"], result["ramp"]
    latencies_ms = [value * 1000 for value in window.latencies_s] or [float("nan")]
    boot_ms = [value * 1000 for value in ramp.latencies_s] or [float("nan")]
    return {
        "p50": statistics.median(latencies_ms), "p99": percentile(latencies_ms, 0.99), "max": max(latencies_ms),
        "actions": len(window.latencies_s), "errors": window.errors(),
        "boot_p50": statistics.median(boot_ms), "boot_p99": percentile(boot_ms, 0.99), "boot_actions": len(ramp.latencies_s),
        "failed": len(window.failed_results), "closed": window.closed_sockets, "missing": window.missing_events,
        "http": len(window.http_errors), "pushes_per_s": window.pushes / result["window_s"],
        "clock_p50": statistics.median(result["clock_rates"] or [float("nan")]),
        "clock_p1": percentile(result["clock_rates"] or [float("nan")], 0.01),
        "kib_per_s": window.pushed_bytes / 1024 / result["window_s"],
        "server_cpu": sum(result["cpu"].values()) * 100, "generator_cpu": result["generator_cpu"] * 100,
        "ramp_s": result["ramp_s"], "catch_up_s": result["catch_up_s"], "join_p50": statistics.median(ramp.join_s or [float("nan")]) * 1000,
        "join_p99": percentile(ramp.join_s or [float("nan")], 0.99) * 1000, "ramp_errors": ramp.errors(),
        "throttled": ramp.throttled, "joined": result["joined"],
        **{f"cpu {label}": value * 100 for label, value in result["cpu"].items()},
        **{f"mem {label}": value for label, value in result["memory"].items()},
        **({"idle_new_mib": result["idle"]["new_mib"], "idle_used_mib": result["idle"]["used_mib"],
            "learner_mib": result["per_learner_mib"]}
           if "idle" in result else {}),
    }


def middle(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.0f}"
    return f"{statistics.median(values):.0f} ({min(values):.0f}..{max(values):.0f})"


def middle_fine(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}..{max(values):.2f})"


def report(mode: str, title: str, runs: list[dict], learners: int, window_s: float) -> None:
    rows = [summary(result) for result in runs]
    column = lambda key: [row[key] for row in rows]  # noqa: E731
    print(f"mode {mode}: {title}; {learners} learners, {len(rows)} run(s), {window_s:.0f} s window, "
          f"{os.cpu_count()} cores shared by server and load generator"
          + (" (median (min..max) of the runs)" if len(rows) > 1 else ""))
    print(f"  ramp: {middle(column('joined'))} joined in {middle(column('ramp_s'))} s ({RAMP_PER_S}/s, "
          f"{JOIN_CONCURRENCY} at once); join (create + socket) p50 {middle(column('join_p50'))} ms, "
          f"p99 {middle(column('join_p99'))} ms; {middle(column('throttled'))} answers 429 (retried), "
          f"{middle(column('ramp_errors'))} errors")
    caught_up = [value for value in column("catch_up_s") if value is not None]
    print(f"  {'caught up with the boots (clocks at 1x)':<40} "
          + (f"{middle(caught_up)} s after the last join" if caught_up else "never")
          + (f"; not before the window in {len(rows) - len(caught_up)} run(s) (it opened after --settle-s)"
             if len(caught_up) < len(rows) else "")
          + f"  ({CATCH_UP_SHARE:.0%} of the clocks at {CATCH_UP_RATE}x or faster over {CATCH_UP_SPAN_S} s)")
    print(f"  {'action -> its event on the socket, ms':<40} p50 {middle(column('p50'))}  p99 {middle(column('p99'))}"
          f"  max {middle(column('max'))}  (goal p99 < {GOAL_P99_MS})")
    print(f"  {'  while joining and booting (before it)':<40} p50 {middle(column('boot_p50'))}  "
          f"p99 {middle(column('boot_p99'))}  ({middle(column('boot_actions'))} actions)")
    print(f"  {'actions measured / errors':<40} {middle(column('actions'))} / {middle(column('errors'))}"
          f"  (failed results {middle(column('failed'))}, closed sockets {middle(column('closed'))}, "
          f"missing events {middle(column('missing'))}, HTTP {middle(column('http'))})")
    print(f"  {'pushes received':<40} {middle(column('pushes_per_s'))} messages/s, {middle(column('kib_per_s'))} KiB/s")
    print(f"  {'live clocks (virtual s per wall s)':<40} median {middle_fine(column('clock_p50'))}, "
          f"slowest 1 % {middle_fine(column('clock_p1'))}  (1.00: every cluster kept up with 1x)")
    labels = [key[len("cpu "):] for key in rows[0] if key.startswith("cpu ")]
    for label in labels:
        print(f"  {'  ' + label:<40} CPU {middle(column('cpu ' + label)):>14} % of one core   "
              f"memory {middle(column('mem ' + label))} MiB" + (" (PSS, with backends)" if label == "postgresql" else " (RSS)"))
    print(f"  {'  server total':<40} CPU {middle(column('server_cpu')):>14} % of one core")
    print(f"  {'  load generator (same cores)':<40} CPU {middle(column('generator_cpu')):>14} % of one core")
    if "idle_new_mib" in rows[0]:
        print(f"  memory per idle cluster (RSS delta / {IDLE_CLUSTERS} clusters, no socket): "
              f"{middle_fine(column('idle_new_mib'))} MiB just created, {middle_fine(column('idle_used_mib'))} MiB "
              f"once run {IDLE_ADVANCE} (booted) and left")
        print(f"  memory per connected learner (RSS delta / learners at the window's end: cluster, socket, "
              f"view state): {middle_fine(column('learner_mib'))} MiB")
    for row, result in zip(rows, runs):
        samples = (result["window"].failed_results + result["window"].http_errors + result["window"].close_reasons
                   + result["ramp"].http_errors + result["ramp"].close_reasons)[:4]
        if samples:
            print(f"  sample errors: {samples}")


MODES = {"A": ("one daphne, embedded (SQLite, in-memory channel layer)", mode_a),
         "B": ("two daphne processes, production (PostgreSQL, Redis channel layer)", mode_b),
         "C": ("as B, but every socket on the process that does not hold its cluster (all forwarded)", mode_c)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=LEARNERS)
    parser.add_argument("--window-s", type=float, default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--action-period-s", type=float, default=ACTION_PERIOD_S,
                        help="each learner's mean time between actions")
    parser.add_argument("--settle-s", type=float, default=SETTLE_MAX_S,
                        help="at most this long from the last join to the window (it opens once the clocks keep up)")
    parser.add_argument("--mode", default="AB", help="any of A, B, C (C: every socket forwarded)")
    parser.add_argument("--quick", action="store_true", help=f"a {QUICK_WINDOW_S} s window, 1 run")
    arguments = parser.parse_args()
    window_s = arguments.window_s or (QUICK_WINDOW_S if arguments.quick else FULL_WINDOW_S)
    runs = arguments.runs or (1 if arguments.quick else FULL_RUNS)
    for mode in arguments.mode.upper():
        title, measure_mode = MODES[mode]
        results = [asyncio.run(measure_mode(Plan(
            learners=arguments.learners, window_s=window_s, settle_s=arguments.settle_s,
            action_period_s=arguments.action_period_s, seed=SEED + run))) for run in range(runs)]
        report(mode, title, results, arguments.learners, window_s)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
