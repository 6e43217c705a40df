"""What every simulated controller shares: a client-go style work queue and the Controller base.

A controller is plain data (it snapshots with its manager). It never holds a reference to a
component: every method receives the manager (`mgr`), whose shared informers, API client, event
recorders and timers it uses.

Work-queue semantics follow client-go's workqueue: a key is queued at most once (dedupe); a key
being processed is not processed again until its sync finished (here: until every API request the
sync issued was answered), and a key added meanwhile is processed once more afterwards; failures
are retried with the default controller rate limiter's per-item exponential backoff.
"""
from __future__ import annotations

from typing import Any

# client-go DefaultControllerRateLimiter: per-item 5 ms doubling up to 1000 s.
RETRY_BASE_DELAY_MS = 5
RETRY_MAX_DELAY_MS = 1_000_000
# Time between a key being queued and a worker picking it up (informer handler -> worker).
WORK_DELAY_MS = 1
# Keys one worker pass handles before yielding to the rest of the simulation.
MAX_KEYS_PER_PASS = 500
MAX_DELETE_ATTEMPTS = 5


def retry_delay_ms(failures: int) -> int:
    """ItemExponentialFailureRateLimiter: base x 2^failures, capped."""
    if failures >= 40:
        return RETRY_MAX_DELAY_MS
    return min(RETRY_BASE_DELAY_MS * (2 ** failures), RETRY_MAX_DELAY_MS)


class WorkQueue:
    """Plain-data work queue: ordered keys, dirty/processing marks and per-key failure counts."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.queued: dict[str, bool] = {}
        self.processing: dict[str, int] = {}
        self.dirty: dict[str, bool] = {}
        self.failed: dict[str, bool] = {}
        self.failures: dict[str, int] = {}

    def add(self, key: str) -> bool:
        """Queue `key` unless queued already; returns True when it was newly queued."""
        if key in self.processing:
            self.dirty[key] = True
            return False
        if key in self.queued:
            return False
        self.queued[key] = True
        self.keys.append(key)
        return True

    def pop(self) -> str | None:
        if not self.keys:
            return None
        key = self.keys.pop(0)
        self.queued.pop(key, None)
        self.processing[key] = 0
        return key

    def begin_request(self, key: str) -> None:
        if key in self.processing:
            self.processing[key] += 1

    def end_request(self, key: str, ok: bool) -> bool:
        """One request of `key`'s sync was answered; True when the sync is now finished."""
        if key not in self.processing:
            return False
        if not ok:
            self.failed[key] = True
        self.processing[key] -= 1
        return self.processing[key] <= 0

    def finish(self, key: str) -> str:
        """The sync of `key` is over. Returns "retry", "again" or "done"."""
        self.processing.pop(key, None)
        failed = self.failed.pop(key, False)
        again = self.dirty.pop(key, False)
        if failed:
            self.failures[key] = self.failures.get(key, 0) + 1
            return "retry"
        self.failures.pop(key, None)
        return "again" if again else "done"

    def __len__(self) -> int:
        return len(self.keys)


class Controller:
    """Base of every controller. Subclasses set `name`, `informers`, `event_source`."""

    name = "controller"
    # Informer keys of the manager whose events this controller receives.
    informers: tuple = ()
    # The component name its Kubernetes Events carry (source.component).
    event_source = ""

    def __init__(self, config: dict | None = None) -> None:
        self.queue = WorkQueue()
        self.worker_armed = False
        self.started = False

    # Lifecycle ------------------------------------------------------------------------------
    def start(self, mgr: Any) -> None:
        """Informers have synced: begin processing (and arm periodic timers)."""
        self.started = True
        self.arm_worker(mgr)

    # Queue ----------------------------------------------------------------------------------
    def enqueue(self, mgr: Any, key: str) -> None:
        if self.queue.add(key):
            self.arm_worker(mgr)

    def enqueue_after(self, mgr: Any, key: str, delay_ms: int) -> None:
        if delay_ms <= 0:
            self.enqueue(mgr, key)
            return
        mgr.after(delay_ms, "controller_requeue", {"controller": self.name, "key": key})

    def arm_worker(self, mgr: Any) -> None:
        if self.started and not self.worker_armed and len(self.queue):
            self.worker_armed = True
            mgr.after(WORK_DELAY_MS, "controller_work", {"controller": self.name})

    def work(self, mgr: Any) -> None:
        self.worker_armed = False
        for _ in range(MAX_KEYS_PER_PASS):
            key = self.queue.pop()
            if key is None:
                break
            self.sync(mgr, key)
            if self.queue.processing.get(key) == 0:
                self.finish_key(mgr, key)
        self.arm_worker(mgr)

    def finish_key(self, mgr: Any, key: str) -> None:
        outcome = self.queue.finish(key)
        if outcome == "retry":
            self.enqueue_after(mgr, key, retry_delay_ms(self.queue.failures[key] - 1))
        elif outcome == "again":
            self.enqueue(mgr, key)

    # Requests -------------------------------------------------------------------------------
    def request(self, mgr: Any, key: str | None, verb: str, resource: str, *, tag: str = "",
                namespace: str | None = None, name: str | None = None, body: dict | None = None,
                subresource: str | None = None, params: dict | None = None, data: Any = None) -> None:
        """An API call made while syncing `key`; its answer goes to `result_<tag>` if defined."""
        if key is not None:
            self.queue.begin_request(key)
        context = {"controller": self.name, "key": key, "tag": tag, "data": data}
        mgr.api.request(verb, resource, namespace=namespace, name=name, body=body,
                        subresource=subresource, params=params, context=context)

    def delete_retrying(self, mgr: Any, resource: str, namespace: str | None, name: str,
                        params: dict | None = None, attempt: int = 0) -> None:
        """A delete issued outside any sync (taint eviction, pod GC), retried a few times on
        failure as the real controllers' client retries do."""
        self.request(mgr, None, "delete", resource, namespace=namespace, name=name, params=params,
                     tag="delete_retrying", data={"resource": resource, "namespace": namespace, "name": name,
                                                  "params": params, "attempt": attempt})

    def result_delete_retrying(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        data = context["data"]
        if not (200 <= code < 300 or code == 404) and data["attempt"] < MAX_DELETE_ATTEMPTS:
            self.after(mgr, retry_delay_ms(data["attempt"] + 8), "retry_delete", data)
        return True

    def timer_retry_delete(self, mgr: Any, data: dict) -> None:
        self.delete_retrying(mgr, data["resource"], data["namespace"], data["name"], data["params"],
                             data["attempt"] + 1)

    def handle_result(self, mgr: Any, context: dict, code: int, body: Any) -> None:
        """A handler returns True/False to say whether the sync succeeded, or None for "2xx".
        Without a handler, 2xx and 404 (the object is gone already) count as success."""
        handler = getattr(self, "result_" + context["tag"], None) if context["tag"] else None
        ok = ok_code(code) or (handler is None and code == 404)
        if handler is not None:
            verdict = handler(mgr, context, code, body)
            if verdict is not None:
                ok = bool(verdict)
        key = context.get("key")
        if key is not None and self.queue.end_request(key, ok):
            self.finish_key(mgr, key)

    # Hooks ----------------------------------------------------------------------------------
    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        pass

    def sync(self, mgr: Any, key: str) -> None:
        pass

    def on_timer(self, mgr: Any, timer: str, data: Any) -> None:
        getattr(self, "timer_" + timer)(mgr, data)

    def after(self, mgr: Any, delay_ms: int, timer: str, data: Any = None) -> None:
        mgr.after(delay_ms, "controller_timer", {"controller": self.name, "timer": timer, "data": data})

    def record(self, mgr: Any, obj: dict, event_type: str, reason: str, message: str) -> None:
        mgr.record_event(self.event_source, obj, event_type, reason, message)

    def emit_sync(self, mgr: Any, key: str, action: str, count: int = 1) -> None:
        mgr.emit("controller.sync", key, {"controller": self.name, "key": key, "action": action, "count": count})


def ok_code(code: int) -> bool:
    return 200 <= code < 300
