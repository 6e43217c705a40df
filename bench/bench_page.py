"""Page weight and speed of the live cluster view, in real Chromium against a real daphne server.

Measures, as medians over several runs:
- bytes transferred on a first load (empty cache; the document and every resource, headers
  included; the websocket not counted) of a lesson page, the sandbox form and a sandbox cluster;
- time from a control click ("Fail node worker-2", "Recover node worker-2") to the first animation
  it causes, from the page's own performance marks (static/js/cluster.js: "cv-control-click" ->
  "cv-first-animation");
- at 100x, what the animator absorbs per second (its own counters: events received, shown,
  merged, skipped) and whether its queue lag stays bounded, with a node failing half-way.

    .venv/bin/python bench/bench_page.py [--runs 5] [--seconds 20] [--quick]

Needs /usr/bin/chromium and Playwright (both in the test setup). The server runs on a free
loopback port with a throwaway SQLite database and is stopped by its PID.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from live_server import daphne_server
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LESSON_PATH = "/lessons/worker-node-failure/"
WAIT_MS = 120_000
# The animator's own bound (MAX_LAG_MS in cluster.js) plus one frame: beyond it, it fell behind.
LAG_BOUND_MS = 1500 + 50

PAGE_BYTES_JS = """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .filter(entry => !entry.name.includes('/ws/'))
  .reduce((sum, entry) => [sum[0] + entry.transferSize, sum[1] + entry.decodedBodySize, sum[2] + 1], [0, 0, 0])"""


def new_page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en",
                                  extra_http_headers={"Accept-Language": "en"})
    return context, context.new_page()


def first_load_bytes(browser, url: str) -> list[int]:
    """[transferred, decoded, requests] for one first load in a fresh context (empty cache)."""
    context, page = new_page(browser)
    try:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        return page.evaluate(PAGE_BYTES_JS)
    finally:
        context.close()


def sandbox_cluster(browser, base_url: str, workers: int = 3):
    """A fresh learner's sandbox cluster with its three web pods Running; the clock back at 1x."""
    context, page = new_page(browser)
    page.goto(base_url + "/sandbox/")
    page.select_option("#sandbox-workers", str(workers))
    page.get_by_role("button", name="Create the cluster").click()
    page.wait_for_url("**/clusters/**")
    page.wait_for_load_state("networkidle")
    cluster_bytes = page.evaluate(PAGE_BYTES_JS)
    page.select_option("#cv-speed-select", "100")
    expect(page.locator("#cluster-overlay .pod.running", has_text="web-")).to_have_count(3, timeout=WAIT_MS)
    return context, page, cluster_bytes


def click_to_animation_ms(page, label: str) -> float:
    page.locator("#controls-worker-2 summary").focus()
    if not page.locator("#controls-worker-2").evaluate("details => details.open"):
        page.keyboard.press("Enter")
    page.evaluate("performance.clearMarks('cv-control-click'); performance.clearMarks('cv-first-animation')")
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_function("performance.getEntriesByName('cv-first-animation', 'mark').length > 0", timeout=WAIT_MS)
    return page.evaluate("performance.getEntriesByName('cv-click-to-animation', 'measure').pop().duration")


def measure_clicks(browser, base_url: str, runs: int) -> tuple[list[float], list[int]]:
    timings, cluster_bytes = [], []
    for _ in range(runs):
        context, page, page_bytes = sandbox_cluster(browser, base_url)
        cluster_bytes.append(page_bytes)
        try:
            page.select_option("#cv-speed-select", "1")
            expect(page.locator("#clock-status")).to_have_attribute("data-speed", "1")
            timings.append(click_to_animation_ms(page, "Fail node worker-2"))
            page.wait_for_timeout(1500)  # let the failure's own burst pass before the next click
            timings.append(click_to_animation_ms(page, "Recover node worker-2"))
        finally:
            context.close()
    return timings, cluster_bytes


def measure_absorption(browser, base_url: str, seconds: int) -> list[dict]:
    """Per-second deltas of the animator's counters at 100x; worker-2 fails half-way."""
    context, page, _bytes = sandbox_cluster(browser, base_url, workers=5)
    try:
        page.locator("#controls-worker-2 summary").click()
        samples = [page.evaluate("Object.assign({wall: performance.now()}, window.clusterViewStats)")]
        page.evaluate("window.clusterViewStats.maxLagMs = 0")
        for second in range(seconds):
            if second == seconds // 2:
                page.get_by_role("button", name="Fail node worker-2", exact=True).click()
            page.wait_for_timeout(1000)
            samples.append(page.evaluate("Object.assign({wall: performance.now()}, window.clusterViewStats)"))
            page.evaluate("window.clusterViewStats.maxLagMs = 0")
        return [per_second(before, after) for before, after in zip(samples, samples[1:])]
    finally:
        context.close()


def per_second(before: dict, after: dict) -> dict:
    elapsed_s = (after["wall"] - before["wall"]) / 1000
    def rate(*keys: str) -> float:
        return sum(after[key] - before[key] for key in keys) / elapsed_s
    return {"received": rate("received", "droppedByServer"), "animated": rate("animated"),
            "merged": rate("coalesced"), "dropped": rate("droppedByServer", "droppedByClient"),
            "frames": rate("frames"), "max_lag_ms": after["maxLagMs"], "max_handle_ms": after["maxHandleMs"]}


def kib(byte_count: float) -> str:
    return f"{byte_count / 1024:.1f} KiB"


def weight_row(name: str, loads: list[list[int]]) -> str:
    transferred = statistics.median(load[0] for load in loads)
    decoded = statistics.median(load[1] for load in loads)
    requests = statistics.median(load[2] for load in loads)
    return f"  {name:<38} {kib(transferred):>11} {kib(decoded):>11} {requests:>5.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=20, help="length of the 100x absorption sample")
    parser.add_argument("--quick", action="store_true", help="3 runs, a 10 s absorption sample")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.runs, arguments.seconds = 3, 10
    if not Path(CHROMIUM).exists():
        print(f"bench_page: {CHROMIUM} is missing (make system-packages-test installs it)")
        return 1
    with daphne_server(prefix="bench-page-") as (base_url, _pid), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            lesson = [first_load_bytes(browser, base_url + LESSON_PATH) for _ in range(arguments.runs)]
            sandbox = [first_load_bytes(browser, base_url + "/sandbox/") for _ in range(arguments.runs)]
            clicks, cluster = measure_clicks(browser, base_url, arguments.runs)
            absorption = measure_absorption(browser, base_url, arguments.seconds)
        finally:
            browser.close()
    print(f"page weight, first load (median of {arguments.runs}; websocket not counted; served as `make run` serves)")
    print(f"  {'page':<38} {'transferred':>11} {'decoded':>11} {'reqs':>5}")
    print(weight_row(f"lesson {LESSON_PATH}", lesson))
    print(weight_row("sandbox form /sandbox/", sandbox))
    print(weight_row("sandbox cluster /clusters/<id>/", cluster))
    print(f"control click -> first animation at 1x (fail and recover worker-2, {len(clicks)} clicks)")
    print(f"  median {statistics.median(clicks):.0f} ms   min {min(clicks):.0f} ms   max {max(clicks):.0f} ms")
    print(f"absorbing at 100x, 5 workers, worker-2 fails at {arguments.seconds // 2} s ({len(absorption)} one-second samples)")
    print(f"  {'per second':<12} {'median':>8} {'max':>8}")
    for key in ("received", "animated", "merged", "dropped", "frames"):
        values = [sample[key] for sample in absorption]
        print(f"  {key:<12} {statistics.median(values):>8.0f} {max(values):>8.0f}")
    worst_lag = max(sample["max_lag_ms"] for sample in absorption)
    worst_handle = max(sample["max_handle_ms"] for sample in absorption)
    bounded = worst_lag <= LAG_BOUND_MS
    print(f"  animation queue lag: max {worst_lag:.0f} ms (bound {LAG_BOUND_MS} ms): "
          f"{'bounded' if bounded else 'FELL BEHIND'}; slowest message handled in {worst_handle:.1f} ms")
    return 0 if bounded else 1


if __name__ == "__main__":
    sys.exit(main())
