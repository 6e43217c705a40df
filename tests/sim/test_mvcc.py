"""MVCCStore: revisions, compare-and-swap, ranges in the past, watch history and compaction."""
import pytest

from cluster_sim.etcd.mvcc import ERROR_COMPACTED, ERROR_FUTURE_REVISION, MVCCError, MVCCStore


def pod(name: str, image: str = "nginx:1.27") -> dict:
    return {"kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [{"image": image}]}}


def put(store: MVCCStore, key: str, value: dict, expect=None) -> dict:
    return store.txn(key, expect, value)


def test_empty_store_is_at_revision_one_and_first_put_creates_revision_two():
    store = MVCCStore()
    assert store.revision == 1
    result = put(store, "/registry/pods/default/web-1", pod("web-1"))
    assert result["succeeded"] is True
    assert result["revision"] == 2
    assert result["kv"] == {"key": "/registry/pods/default/web-1", "value": pod("web-1"),
                            "create_revision": 2, "mod_revision": 2, "version": 1}


def test_update_keeps_create_revision_and_counts_versions():
    store = MVCCStore()
    put(store, "/registry/pods/default/web-1", pod("web-1"))
    put(store, "/registry/pods/default/other", pod("other"))
    result = put(store, "/registry/pods/default/web-1", pod("web-1", "nginx:1.28"))
    assert result["kv"]["create_revision"] == 2
    assert result["kv"]["mod_revision"] == 4
    assert result["kv"]["version"] == 2


def test_compare_on_mod_revision_fails_with_the_current_key():
    store = MVCCStore()
    created = put(store, "/registry/pods/default/web-1", pod("web-1"), expect=0)
    assert created["succeeded"] is True
    again = put(store, "/registry/pods/default/web-1", pod("web-1", "x"), expect=0)
    assert again["succeeded"] is False
    assert again["kv"] is created["kv"]
    assert again["revision"] == 2
    stale = put(store, "/registry/pods/default/web-1", pod("web-1", "x"), expect=1)
    assert stale["succeeded"] is False
    fresh = put(store, "/registry/pods/default/web-1", pod("web-1", "y"), expect=2)
    assert fresh["succeeded"] is True and fresh["kv"]["mod_revision"] == 3


def test_delete_creates_a_revision_but_deleting_a_missing_key_does_not():
    store = MVCCStore()
    put(store, "/registry/pods/default/web-1", pod("web-1"))
    deleted = store.txn("/registry/pods/default/web-1", None, None)
    assert deleted["succeeded"] is True and deleted["kv"] is None and deleted["revision"] == 3
    assert deleted["change"]["type"] == "DELETE"
    assert deleted["change"]["kv"]["mod_revision"] == 3
    assert deleted["change"]["prev_kv"]["value"] == pod("web-1")
    missing = store.txn("/registry/pods/default/nope", None, None)
    assert missing["revision"] == 3 and missing["change"] is None
    assert store.get("/registry/pods/default/web-1") is None
    recreated = put(store, "/registry/pods/default/web-1", pod("web-1"))
    assert recreated["kv"]["create_revision"] == 4 and recreated["kv"]["version"] == 1


def test_prefix_range_is_sorted_and_stays_inside_the_prefix():
    store = MVCCStore()
    for key in ["/registry/pods/default/web-2", "/registry/pods/kube-system/dns",
                "/registry/pods/default/web-1", "/registry/pods/defaultx/a", "/registry/nodes/w-1"]:
        put(store, key, {"k": key})
    result = store.range(prefix="/registry/pods/default/")
    assert [kv["key"] for kv in result["kvs"]] == ["/registry/pods/default/web-1",
                                                  "/registry/pods/default/web-2"]
    assert result["revision"] == 6
    limited = store.range(prefix="/registry/pods/", limit=2)
    assert len(limited["kvs"]) == 2 and limited["more"] is True


def test_range_at_a_past_revision_sees_old_values_and_deleted_keys():
    store = MVCCStore()
    put(store, "/a", {"v": 1})
    put(store, "/a", {"v": 2})
    store.txn("/a", None, None)
    assert store.range(key="/a")["kvs"] == []
    assert store.range(key="/a", revision=2)["kvs"][0]["value"] == {"v": 1}
    assert store.range(key="/a", revision=3)["kvs"][0]["value"] == {"v": 2}
    with pytest.raises(MVCCError, match=ERROR_FUTURE_REVISION):
        store.range(key="/a", revision=5)


def test_compaction_refuses_old_revisions_with_etcds_message():
    store = MVCCStore()
    for version in range(5):
        put(store, "/a", {"v": version})
    store.compact(4)
    assert store.range(key="/a", revision=4)["kvs"][0]["value"] == {"v": 2}
    with pytest.raises(MVCCError) as error:
        store.range(key="/a", revision=3)
    assert str(error.value) == "mvcc: required revision has been compacted"
    with pytest.raises(MVCCError, match=ERROR_COMPACTED):
        store.compact(4)
    with pytest.raises(MVCCError, match=ERROR_FUTURE_REVISION):
        store.compact(99)


def test_compaction_drops_deleted_keys_but_keeps_live_ones():
    store = MVCCStore()
    put(store, "/gone", {"v": 1})
    store.txn("/gone", None, None)
    put(store, "/kept", {"v": 1})
    store.compact(store.revision)
    assert "/gone" not in store.history
    assert store.range(prefix="/")["kvs"][0]["key"] == "/kept"


def test_watch_replays_history_from_start_revision_then_sees_new_changes():
    store = MVCCStore()
    put(store, "/registry/pods/default/a", {"v": 1})
    put(store, "/registry/nodes/n", {"v": 1})
    put(store, "/registry/pods/default/a", {"v": 2})
    history = store.watch("c/w1", None, "/registry/pods/", 2)
    assert [change["kv"]["mod_revision"] for change in history] == [2, 4]
    assert history[1]["prev_kv"]["value"] == {"v": 1}
    change = put(store, "/registry/pods/default/b", {"v": 1})["change"]
    assert store.watchers_of(change) == ["c/w1"]
    node_change = put(store, "/registry/nodes/n", {"v": 2})["change"]
    assert store.watchers_of(node_change) == []
    assert store.cancel_watch("c/w1") is True
    assert store.watchers_of(change) == []


def test_watch_from_now_and_from_the_future_skip_earlier_changes():
    store = MVCCStore()
    put(store, "/a", {"v": 1})
    assert store.watch("now", None, "/", 0) == []
    assert store.watch("future", None, "/", 4) == []
    first = put(store, "/a", {"v": 2})["change"]
    assert store.watchers_of(first) == ["now"]
    second = put(store, "/a", {"v": 3})["change"]
    assert store.watchers_of(second) == ["now", "future"]


def test_watch_below_compaction_is_refused():
    store = MVCCStore()
    for version in range(4):
        put(store, "/a", {"v": version})
    store.compact(4)
    with pytest.raises(MVCCError, match=ERROR_COMPACTED):
        store.watch("w", None, "/", 2)
    assert [change["kv"]["mod_revision"] for change in store.watch("w", None, "/", 4)] == [4, 5]


def test_stored_values_and_records_are_never_mutated():
    store = MVCCStore()
    value = pod("web-1")
    first = put(store, "/a", value)["kv"]
    put(store, "/a", pod("web-1", "other"))
    assert first["value"] is value
    assert first["mod_revision"] == 2 and value == pod("web-1")
