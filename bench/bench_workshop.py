"""A workshop of N students on this machine, over real HTTP and real websockets to a real daphne.

Measures:
- joining: N students, each in a session of their own, POST /api/workshops/<code>/join/ (each
  builds the student's cluster): wall time per join (median, p99) with JOIN_CONCURRENCY at once;
- the class booting: how long until every tile shows the lesson's six pods running;
- broadcast (once booted): with every student's banner socket (/ws/workshops/<id>/student/) open and the
  instructor's class view socket open (its refresher keeps every cluster's clock current, as in a
  real class), the instructor POSTs node.fail worker-2; for each student, the time from sending
  that request to their socket receiving the broadcast banner: p50, p99, max (and the request's
  own duration);
- the class view's refresh cost: server CPU time per second while only the class view watches
  (it refreshes every second: that is the cost of one refresh of N tiles, advancing each
  student's cluster included), while the clusters boot and once they have; and the bytes it
  sends: the first full grid, then per second.

    .venv/bin/python bench/bench_workshop.py [--students 300] [--quick]

The server runs on a free loopback port with a throwaway SQLite database and is stopped by its PID.
Websockets use aiohttp (installed with the kubernetes client).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time

import aiohttp
from live_server import daphne_server
from measure import cpu_seconds, percentile, resident_mib

LESSON = "worker-node-failure"
JOIN_CONCURRENCY = 8
MAX_JOIN_ATTEMPTS = 30
BANNER_TIMEOUT_S = 120
FULL_STUDENTS = 300
QUICK_STUDENTS = 30
IDLE_WINDOW_S = 10
SETTLE_TIMEOUT_S = 900
SETTLED_TEXT = "pods 6/6"  # the lesson's six web pods Running, as the tile says it
TILE_ID = re.compile(r'<article id="tile-(\d+)"')


INSTRUCTOR_SETUP = """
from django.contrib.auth.models import Group, Permission, User
group, _ = Group.objects.get_or_create(name="instructors")
group.permissions.add(Permission.objects.get(codename="run_workshop"))
User.objects.create_user("bench-teacher", password="bench-password").groups.add(group)
"""


def new_session() -> aiohttp.ClientSession:
    # unsafe: keep cookies for an IP address host (127.0.0.1).
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 headers={"Accept-Language": "en"})


async def instructor(base_url: str) -> tuple[aiohttp.ClientSession, str]:
    """A signed-in session (for the class view socket) and an API token (for the requests)."""
    session = new_session()
    async with session.get(base_url + "/workshops/login/") as page:
        html = await page.text()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    async with session.post(base_url + "/workshops/login/", data={
            "username": "bench-teacher", "password": "bench-password", "csrfmiddlewaretoken": csrf, "next": ""},
            headers={"Referer": base_url + "/workshops/login/"}) as answer:
        assert answer.status == 200 and "/workshops/" in str(answer.url), answer.status
    async with aiohttp.ClientSession() as plain:
        async with plain.post(base_url + "/api/auth/token/", json={
                "username": "bench-teacher", "password": "bench-password"}) as answer:
            token = (await answer.json())["token"]
    return session, token


async def join_students(base_url: str, code: str, count: int) -> tuple[list[aiohttp.ClientSession], list[float], int]:
    gate = asyncio.Semaphore(JOIN_CONCURRENCY)
    sessions = [new_session() for _ in range(count)]
    durations: list[float] = []

    throttled = [0]

    async def join(index: int) -> None:
        async with gate:
            started = time.perf_counter()
            # A first request has no session yet, so web/limits.py counts it against the address:
            # every student here shares 127.0.0.1, as a class behind one NAT would. Retry as asked.
            for _attempt in range(MAX_JOIN_ATTEMPTS):
                async with sessions[index].post(f"{base_url}/api/workshops/{code}/join/",
                                                json={"name": f"student-{index:03d}"}) as answer:
                    body = await answer.text()
                    if answer.status != 429:
                        break
                    throttled[0] += 1
                    await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
            assert answer.status == 201, (answer.status, body[:300])
            durations.append(time.perf_counter() - started)

    await asyncio.gather(*(join(index) for index in range(count)))
    return sessions, durations, throttled[0]


async def open_socket(session: aiohttp.ClientSession, url: str, origin: str) -> aiohttp.ClientWebSocketResponse:
    return await session.ws_connect(url, headers={"Origin": origin}, max_msg_size=0)


def settled_tiles(html: str, settled: dict[str, bool]) -> None:
    for part in html.split("</article>"):
        found = TILE_ID.search(part)
        if found:
            settled[found.group(1)] = SETTLED_TEXT in part


async def settle(socket: aiohttp.ClientWebSocketResponse, students: int) -> tuple[int, float]:
    """Read the class view until every tile shows the six web pods running: the class is booted.
    Returns the full grid's size and how long booting took."""
    started = time.monotonic()
    first = await socket.receive(timeout=120)
    settled: dict[str, bool] = {}
    settled_tiles(first.data, settled)
    while sum(settled.values()) < students:
        if time.monotonic() - started > SETTLE_TIMEOUT_S:
            raise RuntimeError(f"only {sum(settled.values())} of {students} clusters booted in {SETTLE_TIMEOUT_S} s")
        message = await socket.receive(timeout=SETTLE_TIMEOUT_S)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"class view socket ended ({message.type})")
        settled_tiles(message.data, settled)
    return len(first.data.encode()), time.monotonic() - started


async def measure_class_view(socket: aiohttp.ClientWebSocketResponse, pid: int, seconds: int) -> dict:
    """CPU and bytes per second while only the class view watches (it refreshes once a second)."""
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    sent_bytes, messages = 0, 0
    while time.monotonic() - started < seconds:
        try:
            message = await socket.receive(timeout=max(0.01, seconds - (time.monotonic() - started)))
        except asyncio.TimeoutError:
            break
        if message.type == aiohttp.WSMsgType.TEXT:
            sent_bytes += len(message.data.encode())
            messages += 1
    elapsed = time.monotonic() - started
    return {"cpu_per_s": (cpu_seconds(pid) - cpu_before) / elapsed,
            "bytes_per_s": sent_bytes / elapsed, "messages_per_s": messages / elapsed}


async def drain(socket: aiohttp.ClientWebSocketResponse, stop: asyncio.Event) -> None:
    """Keep reading the class view's pushes while the broadcast runs (a real browser would)."""
    while not stop.is_set():
        try:
            await socket.receive(timeout=0.5)
        except asyncio.TimeoutError:
            continue


async def broadcast_latencies(base_url: str, token: str, code: str,
                              sockets: list[aiohttp.ClientWebSocketResponse]) -> tuple[list[float], float]:
    arrivals: list[float] = [0.0] * len(sockets)

    async def wait_for_banner(index: int) -> None:
        deadline = time.perf_counter() + BANNER_TIMEOUT_S
        while time.perf_counter() < deadline:
            message = await sockets[index].receive(timeout=BANNER_TIMEOUT_S)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"student {index}: socket ended ({message.type})")
            if json.loads(message.data).get("kind") == "broadcast":
                arrivals[index] = time.perf_counter()
                return
        raise RuntimeError(f"student {index}: no broadcast banner within {BANNER_TIMEOUT_S} s")

    waiters = [asyncio.ensure_future(wait_for_banner(index)) for index in range(len(sockets))]
    async with aiohttp.ClientSession(headers={"Authorization": f"Token {token}"}) as api:
        sent = time.perf_counter()
        async with api.post(f"{base_url}/api/workshops/{code}/broadcast/",
                            json={"action": "node.fail", "target": "worker-2"}) as answer:
            body = await answer.json()
            request_s = time.perf_counter() - sent
            assert answer.status == 202, body
            assert all(result["ok"] for result in body["results"].values()), body["results"]
    await asyncio.gather(*waiters)
    return [arrival - sent for arrival in arrivals], request_s


async def run(students: int) -> int:
    with daphne_server(prefix="bench-workshop-", setup_script=INSTRUCTOR_SETUP) as (base_url, pid):
        teacher, token = await instructor(base_url)
        async with aiohttp.ClientSession(headers={"Authorization": f"Token {token}"}) as api:
            async with api.post(base_url + "/api/workshops/", json={"title": "bench", "lessons": [LESSON]}) as answer:
                workshop = await answer.json()
        code, workshop_id = workshop["code"], workshop["id"]
        ws_base = base_url.replace("http://", "ws://")
        started = time.perf_counter()
        sessions, joins, throttled = await join_students(base_url, code, students)
        join_total_s = time.perf_counter() - started
        rss_after_join = resident_mib(pid)

        class_socket = await open_socket(teacher, f"{ws_base}/ws/workshops/{workshop_id}/class/?lang=en", base_url)
        boot = await measure_class_view(class_socket, pid, IDLE_WINDOW_S)
        boot["first_bytes"], boot_s = await settle(class_socket, students)
        refresh = await measure_class_view(class_socket, pid, IDLE_WINDOW_S)
        refresh["first_bytes"] = boot["first_bytes"]

        sockets = [await open_socket(session, f"{ws_base}/ws/workshops/{workshop_id}/student/?lang=en", base_url)
                   for session in sessions]
        stop = asyncio.Event()
        class_reader = asyncio.ensure_future(drain(class_socket, stop))
        latencies, request_s = await broadcast_latencies(base_url, token, code, sockets)
        stop.set()
        await class_reader
        rss_end = resident_mib(pid)
        for socket in sockets + [class_socket]:
            await socket.close()
        for session in sessions + [teacher]:
            await session.close()

    report(students, joins, join_total_s, throttled, boot, boot_s, refresh, latencies, request_s, rss_after_join, rss_end)
    return 0


def report(students: int, joins: list[float], join_total_s: float, throttled: int, boot: dict, boot_s: float, refresh: dict,
           latencies: list[float], request_s: float, rss_after_join: float, rss_end: float) -> None:
    ms = 1000.0
    print(f"workshop of {students} students, lesson {LESSON}, one daphne process, {os.cpu_count()} cores")
    print(f"  {'measure':<44} {'p50':>9} {'p99':>9} {'max':>9}")
    print(f"  {'join (HTTP, builds the cluster), ms':<44} {statistics.median(joins) * ms:>9.0f} "
          f"{percentile(joins, 0.99) * ms:>9.0f} {max(joins) * ms:>9.0f}   "
          f"({JOIN_CONCURRENCY} at once; all in {join_total_s:.1f} s; {throttled} answered 429 first)")
    print(f"  {'broadcast -> student banner socket, ms':<44} {statistics.median(latencies) * ms:>9.0f} "
          f"{percentile(latencies, 0.99) * ms:>9.0f} {max(latencies) * ms:>9.0f}   "
          f"(the POST itself: {request_s * ms:.0f} ms)")
    print(f"  class view of {students} tiles, refreshed every 1 s, only it watching ({IDLE_WINDOW_S} s windows;"
          f" it advances every student's cluster): first full grid {boot['first_bytes'] / 1024:.1f} KiB")
    for label, window in ((f"while the clusters boot", boot), ("booted (all tiles pods 6/6)", refresh)):
        print(f"    {label:<30} server CPU {window['cpu_per_s'] * ms:>4.0f} ms per wall second; "
              f"{window['bytes_per_s'] / 1024:.1f} KiB/s in {window['messages_per_s']:.1f} messages/s")
    print(f"    every cluster booted {boot_s:.0f} s after the class view opened")
    print(f"  server memory (RSS): {rss_after_join:.0f} MiB after the joins, {rss_end:.0f} MiB at the end "
          f"({rss_after_join / students:.1f} MiB per student)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_STUDENTS} students")
    arguments = parser.parse_args()
    students = arguments.students or (QUICK_STUDENTS if arguments.quick else FULL_STUDENTS)
    return asyncio.run(run(students))


if __name__ == "__main__":
    sys.exit(main())
