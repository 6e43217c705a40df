"""etcd's multi-version key-value store: one global revision, per-key history, watch, compaction.

Modelled on etcd's server/storage/mvcc: an empty store is at revision 1, every successful put or
delete of an existing key creates the next revision, and old revisions stay readable until they
are compacted.  Key-value records (``kv`` dicts) and values are never mutated once stored, so they
can be shared with responses, watch events and other components.
"""
from __future__ import annotations

import bisect

from ..engine import SimulationError

ERROR_COMPACTED = "mvcc: required revision has been compacted"
ERROR_FUTURE_REVISION = "mvcc: required revision is a future revision"

# More keys than any simulated cluster holds: a bound for loops over the key index.
MAX_KEYS = 10_000_000


class MVCCError(Exception):
    """A client asked for something the store refuses, with etcd's error text."""


def in_range(key: str, exact_key: str | None, prefix: str | None) -> bool:
    if exact_key is not None:
        return key == exact_key
    return key.startswith(prefix or "")


class MVCCStore:
    """Keys map to a list of ``kv`` records, oldest first; a deletion is a tombstone record.

    A tombstone has ``value`` None, ``version`` 0 and ``create_revision`` 0, as etcd reports a
    DELETE event's kv.  ``consistent_index`` is the last raft index applied (etcd persists it in
    the backend so a restarted member knows where to resume).
    """

    def __init__(self):
        self.revision = 1
        self.compact_revision = 0
        self.consistent_index = 0
        self.history: dict[str, list] = {}
        self.sorted_keys: list[str] = []
        # Every change in revision order, for watchers that start in the past.
        self.changes: list[dict] = []
        # watch key -> {"key": exact key or None, "prefix": prefix or None, "start_revision"}
        self.watchers: dict[str, dict] = {}

    # Reads ---------------------------------------------------------------------------------
    def get(self, key: str) -> dict | None:
        """The live kv of ``key`` at the current revision, or None."""
        records = self.history.get(key)
        if not records:
            return None
        latest = records[-1]
        return None if latest["value"] is None else latest

    def range(self, key: str | None = None, prefix: str | None = None, revision: int = 0,
              limit: int = 0) -> dict:
        """Live kvs of one key or a prefix at ``revision`` (0 = current), sorted by key."""
        at_revision = self.check_revision(revision)
        kvs = []
        for candidate in self.keys_in_range(key, prefix):
            record = self.record_at(candidate, at_revision)
            if record is not None and record["value"] is not None:
                kvs.append(record)
                if limit and len(kvs) > limit:
                    break
        more = bool(limit) and len(kvs) > limit
        if more:
            kvs.pop()
        return {"revision": self.revision, "kvs": kvs, "more": more}

    def check_revision(self, revision: int) -> int:
        if revision <= 0:
            return self.revision
        if revision > self.revision:
            raise MVCCError(ERROR_FUTURE_REVISION)
        if revision < self.compact_revision:
            raise MVCCError(ERROR_COMPACTED)
        return revision

    def keys_in_range(self, key: str | None, prefix: str | None) -> list[str]:
        if key is not None:
            return [key] if key in self.history else []
        start = bisect.bisect_left(self.sorted_keys, prefix or "")
        keys = []
        for position in range(start, min(len(self.sorted_keys), start + MAX_KEYS)):
            candidate = self.sorted_keys[position]
            if not candidate.startswith(prefix or ""):
                break
            keys.append(candidate)
        return keys

    def record_at(self, key: str, revision: int) -> dict | None:
        records = self.history.get(key) or []
        for position in range(len(records) - 1, -1, -1):
            if records[position]["mod_revision"] <= revision:
                return records[position]
        return None

    # Writes --------------------------------------------------------------------------------
    def txn(self, key: str, expect_mod_revision: int | None, value: dict | None) -> dict:
        """Compare ``key``'s mod_revision, then put ``value`` (a dict) or delete (None).

        ``expect_mod_revision`` None is unconditional, 0 means the key must not exist, n means
        its mod_revision must be n.  Returns succeeded, the key's kv afterwards (or the current
        kv when the compare failed), the store revision and the change (None if nothing changed).
        """
        current = self.get(key)
        if expect_mod_revision is not None:
            current_mod_revision = current["mod_revision"] if current else 0
            if current_mod_revision != expect_mod_revision:
                return {"succeeded": False, "kv": current, "revision": self.revision, "change": None}
        if value is None:
            change = self.delete(key, current)
            return {"succeeded": True, "kv": None, "revision": self.revision, "change": change}
        change = self.put(key, value, current)
        return {"succeeded": True, "kv": change["kv"], "revision": self.revision, "change": change}

    def put(self, key: str, value: dict, current: dict | None) -> dict:
        if not isinstance(value, dict):
            raise SimulationError(f"etcd values are dicts, got {type(value).__name__} for {key}")
        self.revision += 1
        kv = {"key": key, "value": value,
              "create_revision": current["create_revision"] if current else self.revision,
              "mod_revision": self.revision,
              "version": current["version"] + 1 if current else 1}
        return self.record(key, {"type": "PUT", "kv": kv, "prev_kv": current})

    def delete(self, key: str, current: dict | None) -> dict | None:
        if current is None:
            # etcd does not create a revision for deleting a key that does not exist.
            return None
        self.revision += 1
        tombstone = {"key": key, "value": None, "create_revision": 0,
                     "mod_revision": self.revision, "version": 0}
        return self.record(key, {"type": "DELETE", "kv": tombstone, "prev_kv": current})

    def record(self, key: str, change: dict) -> dict:
        records = self.history.get(key)
        if records is None:
            records = self.history[key] = []
            bisect.insort(self.sorted_keys, key)
        records.append(change["kv"])
        self.changes.append(change)
        return change

    # Compaction ----------------------------------------------------------------------------
    def compact(self, revision: int) -> None:
        """Forget every revision below ``revision`` except each key's record at it."""
        if revision <= self.compact_revision:
            raise MVCCError(ERROR_COMPACTED)
        if revision > self.revision:
            raise MVCCError(ERROR_FUTURE_REVISION)
        self.compact_revision = revision
        for key in list(self.sorted_keys):
            kept = self.compacted_records(self.history[key], revision)
            if kept:
                self.history[key] = kept
            else:
                del self.history[key]
        self.sorted_keys = [key for key in self.sorted_keys if key in self.history]
        first_kept = bisect.bisect_left([change["kv"]["mod_revision"] for change in self.changes],
                                        revision)
        self.changes = self.changes[first_kept:]

    @staticmethod
    def compacted_records(records: list, revision: int) -> list:
        newest_old = -1
        for position, record in enumerate(records):
            if record["mod_revision"] <= revision:
                newest_old = position
        if newest_old < 0:
            return records
        kept = records[newest_old:]
        if kept[0]["value"] is None:
            # A tombstone at or below the compaction revision has nothing left to describe.
            kept = kept[1:]
        return kept

    # Watch ---------------------------------------------------------------------------------
    def watch(self, watch_key: str, key: str | None, prefix: str | None, start_revision: int) -> list:
        """Register a watcher; return the past changes from ``start_revision`` it must see first.

        ``start_revision`` 0 means "from the next revision".  Raises MVCCError when the start
        revision has been compacted (etcd cancels such a watch with the compact revision).
        """
        if watch_key in self.watchers:
            raise SimulationError(f"duplicate watch {watch_key}")
        if 0 < start_revision < self.compact_revision:
            raise MVCCError(ERROR_COMPACTED)
        if start_revision <= 0:
            start_revision = self.revision + 1
        self.watchers[watch_key] = {"key": key, "prefix": prefix, "start_revision": start_revision}
        if start_revision > self.revision:
            return []
        revisions = [change["kv"]["mod_revision"] for change in self.changes]
        first = bisect.bisect_left(revisions, start_revision)
        return [change for change in self.changes[first:]
                if in_range(change["kv"]["key"], key, prefix)]

    def cancel_watch(self, watch_key: str) -> bool:
        return self.watchers.pop(watch_key, None) is not None

    def cancel_all_watches(self) -> None:
        self.watchers = {}

    def watchers_of(self, change: dict) -> list[str]:
        """Watch keys whose range contains the changed key."""
        changed_key = change["kv"]["key"]
        revision = change["kv"]["mod_revision"]
        return [watch_key for watch_key, watcher in self.watchers.items()
                if revision >= watcher["start_revision"]
                and in_range(changed_key, watcher["key"], watcher["prefix"])]
