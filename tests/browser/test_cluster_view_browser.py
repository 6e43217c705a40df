"""A learner in Chromium on the sandbox: fail a node, stop the control plane, lose etcd quorum.

Screenshots of the key states go to $CLUSTER_VIEW_SCREENSHOTS (default /tmp/screens); the page's
own counters (events absorbed, click to first animation, bytes) to metrics.json beside them.
"""
import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.chromium_case import ChromiumLiveServerTestCase

SHOTS = Path(os.environ.get("CLUSTER_VIEW_SCREENSHOTS", "/tmp/screens"))
# Bounds for a broken run, not performance assertions: the cluster runs at 100x.
WAIT_MS = 90_000


@pytest.mark.browser
class ClusterViewBrowserTests(ChromiumLiveServerTestCase):
    shots = SHOTS

    def sandbox_cluster(self, *, control_plane: int, etcd: int, workers: int, language: str = "en"):
        page = self.new_context_page(width=1366, height=768, language=language)
        page.goto(self.live_server_url + "/sandbox/")
        page.check(f"input[name=control_plane][value='{control_plane}']")
        page.check(f"input[name=etcd][value='{etcd}']")
        page.select_option("#sandbox-workers", str(workers))
        page.get_by_role("button", name="Create the cluster" if language == "en" else "클러스터 만들기").click()
        page.wait_for_url("**/clusters/**")
        page.wait_for_load_state("networkidle")
        self.page_bytes = page.evaluate(
            "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
            ".filter(entry => !entry.name.includes('/ws/')).reduce((sum, entry) => sum + entry.encodedBodySize, 0)")
        page.select_option("#cv-speed-select", "100")
        web_pods = page.locator("#cluster-overlay .pod.running", has_text="web-")
        expect(web_pods).to_have_count(3, timeout=WAIT_MS)
        return page

    def press(self, page, machine: str, label: str):
        page.locator(f"#controls-{machine} summary").click()
        page.get_by_role("button", name=label, exact=True).click()

    def kubectl(self, page, command: str, expected: str):
        terminal = page.locator(".terminal-input")
        terminal.fill(command)
        terminal.press("Enter")
        expect(page.locator(".terminal-log")).to_contain_text(expected, timeout=WAIT_MS)

    def test_a_failed_node_turns_notready_and_its_pods_move(self):
        page = self.sandbox_cluster(control_plane=1, etcd=1, workers=3)
        page.screenshot(path=str(SHOTS / "browser-sandbox-running.png"))
        worker_2 = page.locator("#slot-worker-2 .pod.running", has_text="web-")
        moved = worker_2.count()
        self.press(page, "worker-2", "Fail node worker-2")
        expect(page.locator("#badge-worker-2")).to_contain_text("machine down", timeout=WAIT_MS)
        expect(page.locator("#badge-worker-2")).to_contain_text("NotReady", timeout=WAIT_MS)
        expect(page.locator("#slot-worker-2")).to_contain_text("unreachable:NoExecute", timeout=WAIT_MS)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / "browser-node-notready.png"))
        expect(page.locator("#event-log-entries")).to_contain_text("worker-2 is NotReady")
        if moved:
            expect(page.locator("#slot-worker-2 .pod.terminating", has_text="web-")).to_have_count(moved, timeout=WAIT_MS)
        others = page.locator("#slot-worker-1 .pod.running, #slot-worker-3 .pod.running").filter(has_text="web-")
        expect(others).to_have_count(3, timeout=WAIT_MS)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / "browser-pods-moved.png"))
        stats = page.evaluate("window.clusterViewStats")
        assert stats["received"] > 0 and stats["animated"] > 0
        assert stats["clickToAnimationMs"] is not None
        self.record_metrics("fail-node", stats)

    def test_without_the_control_plane_kubectl_fails_and_pods_keep_running(self):
        page = self.sandbox_cluster(control_plane=1, etcd=1, workers=2)
        self.press(page, "cp-1", "Stop control-plane node cp-1")
        expect(page.locator("#badge-cp-1")).to_contain_text("machine down", timeout=WAIT_MS)
        # A powered-off machine does not answer: kubectl's dial times out (its own words).
        self.kubectl(page, "kubectl get pods", "Unable to connect to the server: dial tcp ")
        expect(page.locator(".terminal-log")).to_contain_text(":6443: i/o timeout")
        page.get_by_role("button", name="Advance 10 s").click()
        expect(page.locator("#cluster-overlay .pod.running", has_text="web-")).to_have_count(3)
        page.evaluate("document.querySelector('.terminal-log').scrollIntoView()")
        page.screenshot(path=str(SHOTS / "browser-controlplane-down.png"))
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / "browser-controlplane-down-picture.png"))

    def test_losing_etcd_quorum_makes_writes_fail(self):
        page = self.sandbox_cluster(control_plane=3, etcd=3, workers=2)
        self.press(page, "cp-2", "Stop etcd member cp-2")
        self.press(page, "cp-3", "Stop etcd member cp-3")
        expect(page.locator("#etcd-panel")).to_contain_text("Quorum lost", timeout=WAIT_MS)
        self.kubectl(page, "kubectl create deployment api --image=nginx:1.27", "etcdserver: request timed out")
        # The panel is swapped several times a second: scroll in one step, not through a handle.
        page.evaluate("document.getElementById('etcd-panel').scrollIntoView()")
        page.screenshot(path=str(SHOTS / "browser-etcd-quorum-lost.png"))
        self.record_metrics("quorum-loss", page.evaluate("window.clusterViewStats"))

    def test_korean_sandbox_and_view(self):
        page = self.sandbox_cluster(control_plane=1, etcd=1, workers=3, language="ko")
        expect(page.locator("#etcd-panel")).to_contain_text("쓰기에는")
        page.locator("#controls-worker-1 summary").click()
        expect(page.get_by_role("button", name="worker-1 노드 고장 내기")).to_be_visible()
        page.screenshot(path=str(SHOTS / "browser-korean.png"), full_page=True)

    def test_the_clock_runs_on_the_page_and_stops_when_paused(self):
        """The server re-renders the clock only when its speed, pause or timeline changes; the page
        runs it in between. It must run at the chosen speed, match the server's time, and stop."""
        page = self.new_context_page(width=1366, height=768, language="en")
        page.goto(self.live_server_url + "/sandbox/")
        page.get_by_role("button", name="Create the cluster").click()
        page.wait_for_url("**/clusters/**")
        clock = page.locator("#clock-status .cv-clock-time")
        to_ms = "text => { const p = text.split(/[:.]/).map(Number);" \
                " return p.length === 4 ? ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 + p[3] * 100" \
                " : (p[0] * 60 + p[1]) * 1000 + p[2] * 100; }"
        first_ms = page.evaluate(f"({to_ms})(document.querySelector('#clock-status .cv-clock-time').textContent)")
        page.wait_for_timeout(2_500)
        later_ms = page.evaluate(f"({to_ms})(document.querySelector('#clock-status .cv-clock-time').textContent)")
        assert 1_500 <= later_ms - first_ms <= 4_000, (first_ms, later_ms)  # 1x: about the wall time
        page.get_by_role("button", name="❚❚ Pause").click()
        expect(page.locator("#clock-status")).to_have_attribute("data-paused", "1", timeout=WAIT_MS)
        paused_text = clock.text_content()
        page.wait_for_timeout(1_500)
        assert clock.text_content() == paused_text
        # What the page shows is the server's clock: the API says the same time.
        cluster_id = page.locator("#cluster-view").get_attribute("data-cluster-id")
        server_ms = page.evaluate(f"fetch('/api/clusters/{cluster_id}/', {{credentials: 'same-origin'}})"
                                  ".then(answer => answer.json()).then(body => body.now.ms)")
        assert abs(server_ms - page.evaluate(f"({to_ms})('{paused_text}')")) < 200, (server_ms, paused_text)

    def test_the_etcd_counters_run_on_the_page_between_renders(self):
        """The server sends the etcd panel again only when more than its index counters changed
        (or every 5 virtual s); the page advances them from the etcd events in between. A
        lease renewal (every 2 s) must move them on the same panel, and once paused they must be
        the server's own values (a page load renders them)."""
        page = self.sandbox_cluster(control_plane=1, etcd=3, workers=1)
        page.select_option("#cv-speed-select", "1")
        expect(page.locator("#clock-status")).to_have_attribute("data-speed", "1", timeout=WAIT_MS)
        # Each panel the server sends is marked with the commit it came with; done when a marked
        # panel shows a later one (the page advanced it).
        first = page.wait_for_function("""() => {
            const panel = document.getElementById('etcd-panel');
            const commit = Number(panel.querySelector("tr.role-leader [data-field='commit']").textContent);
            if (panel.dataset.sentCommit === undefined) { panel.dataset.sentCommit = commit; return false; }
            return commit > Number(panel.dataset.sentCommit) ? Number(panel.dataset.sentCommit) : false;
        }""", timeout=WAIT_MS, polling=100).json_value()
        page.get_by_role("button", name="❚❚ Pause").click()
        expect(page.locator("#clock-status")).to_have_attribute("data-paused", "1", timeout=WAIT_MS)
        page.wait_for_timeout(1_500)  # the pushes of the last instants before the pause
        fields = ("last_index", "commit", "applied")
        shown = {field: int(page.locator(f"#etcd-panel tr.role-leader [data-field='{field}']").text_content())
                 for field in fields}
        served_page = page.evaluate("fetch(location.href, {credentials: 'same-origin'}).then(answer => answer.text())")
        leader_row = re.search(r'<tr id="etcd-row-[^"]+" class="role-leader".*?</tr>', served_page, re.S).group(0)
        served = {field: int(re.search(f'data-field="{field}">(\\d+)<', leader_row).group(1)) for field in fields}
        assert shown == served and shown["commit"] > first, (shown, served, first)
        page.locator("#etcd-panel").screenshot(path=str(SHOTS / "browser-etcd-panel-paused.png"))

    def test_keyboard_only_fail_and_recover_a_node(self):
        """Tab to a machine's controls, open them, fail the node and recover it: no mouse. Every
        stop shows a visible focus ring, and the buttons' names say the action and the target."""
        page = self.sandbox_cluster(control_plane=1, etcd=1, workers=3)
        page.evaluate("document.activeElement.blur()")
        summary = page.locator("#controls-worker-2 summary")
        self.tab_to(page, summary)
        self.assert_focus_ring(page)
        page.keyboard.press("Enter")
        expect(page.locator("#controls-worker-2")).to_have_attribute("open", "")
        fail = page.get_by_role("button", name="Fail node worker-2", exact=True)
        self.tab_to(page, fail)
        self.assert_focus_ring(page)
        page.keyboard.press("Enter")
        expect(page.locator("#badge-worker-2")).to_contain_text("machine down", timeout=WAIT_MS)
        expect(page.locator("#control-status")).to_contain_text("Done: node.fail worker-2")
        recover = page.get_by_role("button", name="Recover node worker-2", exact=True)
        self.tab_to(page, recover)
        page.keyboard.press("Enter")
        expect(page.locator("#badge-worker-2")).not_to_contain_text("machine down", timeout=WAIT_MS)
        expect(page.locator("#badge-worker-2")).to_contain_text("Ready", timeout=WAIT_MS)
        # State is said in words, and the narrated log is a live region a screen reader reads.
        expect(page.locator("#event-log-entries")).to_have_attribute("aria-live", "polite")
        expect(page.locator("#event-log-entries")).to_contain_text("worker-2")

    def tab_to(self, page, locator, limit: int = 200):
        for _ in range(limit):
            if locator.evaluate("element => element === document.activeElement"):
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"{locator} was not reached with Tab in {limit} presses")

    def assert_focus_ring(self, page):
        outline = page.evaluate("(() => { const style = getComputedStyle(document.activeElement);"
                                " return [style.outlineStyle, parseFloat(style.outlineWidth)]; })()")
        assert outline[0] != "none" and outline[1] >= 2, f"focused element has no visible outline: {outline}"

    def record_metrics(self, name: str, stats: dict):
        path = SHOTS / "metrics.json"
        metrics = json.loads(path.read_text()) if path.exists() else {}
        metrics[name] = dict(stats, page_bytes=self.page_bytes)
        path.write_text(json.dumps(metrics, indent=1))
