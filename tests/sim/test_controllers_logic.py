"""Pure logic of the controllers: rate limiter, work queue, hashes, victim order, zone rules."""
from __future__ import annotations

import random

from cluster_sim.controllers.base import WorkQueue, retry_delay_ms
from cluster_sim.controllers.deployment import new_rs_replicas, resolve_fenceposts
from cluster_sim.controllers.helpers import SAFE_ALPHABET, compute_hash, fnv32a, safe_encode_string
from cluster_sim.controllers.nodelifecycle import (TokenBucket, compute_zone_state, swap_taints,
                                                   zone_eviction_rate)
from cluster_sim.controllers.replicaset import pods_to_delete
from cluster_sim.controllers.tainteviction import FOREVER, min_toleration_ms
from cluster_sim.timefmt import format_time

CONFIG = {"node_eviction_rate": 0.1, "secondary_node_eviction_rate": 0.01, "large_cluster_size_threshold": 50}


def test_rate_limiter_doubles_from_5ms_to_1000s():
    assert [retry_delay_ms(n) for n in range(4)] == [5, 10, 20, 40]
    assert retry_delay_ms(17) == 655_360
    assert retry_delay_ms(18) == 1_000_000
    assert retry_delay_ms(100) == 1_000_000


def test_work_queue_dedupes_and_reprocesses_keys_added_while_processing():
    queue = WorkQueue()
    assert queue.add("a") and not queue.add("a")
    queue.add("b")
    assert queue.pop() == "a"
    queue.begin_request("a")
    assert not queue.add("a")          # dirty: not queued twice while processing
    assert queue.pop() == "b"
    assert queue.end_request("a", ok=True)
    assert queue.finish("a") == "again"
    queue.add("c")
    queue.pop()
    queue.begin_request("c")
    queue.end_request("c", ok=False)
    assert queue.finish("c") == "retry" and queue.failures["c"] == 1


def test_fnv32a_matches_reference_vectors():
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C
    assert fnv32a(b"foobar") == 0xBF9CF968


def test_pod_template_hash_is_safe_encoded_decimal_and_changes_with_template_and_collisions():
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}
    first = compute_hash(template, None)
    assert 1 <= len(first) <= 10 and all(char in SAFE_ALPHABET for char in first)
    # Digits map onto "456789bcdf" (byte % 27 in the alphabet), as SafeEncodeString does.
    assert safe_encode_string("0123456789") == "456789bcdf"
    assert compute_hash(template, None) == first
    changed = {"metadata": template["metadata"], "spec": {"containers": [{"name": "c", "image": "nginx:1.28"}]}}
    assert compute_hash(changed, None) != first
    assert compute_hash(template, 1) != first
    labelled = {"metadata": {"labels": {"app": "web", "pod-template-hash": first}}, "spec": template["spec"]}
    assert compute_hash(labelled, None) == first


def test_fenceposts_round_surge_up_and_unavailable_down():
    assert resolve_fenceposts("25%", "25%", 10) == [3, 2]
    assert resolve_fenceposts("25%", "25%", 1) == [1, 0]
    assert resolve_fenceposts(0, 0, 5) == [0, 1]
    assert resolve_fenceposts(2, "50%", 3) == [2, 1]


def test_new_replica_set_grows_only_within_max_surge():
    deployment = {"spec": {"replicas": 10, "strategy": {"type": "RollingUpdate",
                                                        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}}
    old = {"spec": {"replicas": 10}}
    new = {"spec": {"replicas": 0}}
    assert new_rs_replicas(deployment, [old, new], new) == 3
    assert new_rs_replicas(deployment, [{"spec": {"replicas": 8}}, {"spec": {"replicas": 3}}], {"spec": {"replicas": 3}}) == 5


def _pod(name, *, node="n1", phase="Running", ready=True, cost=None, ready_ago_s=1000, restarts=0, age_s=2000):
    now_ms = 10_000_000
    metadata = {"name": name, "namespace": "default", "uid": f"uid-{name}",
                "creationTimestamp": format_time(now_ms - age_s * 1000)}
    if cost is not None:
        metadata["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": str(cost)}
    conditions = [{"type": "Ready", "status": "True" if ready else "False",
                   "lastTransitionTime": format_time(now_ms - ready_ago_s * 1000)}]
    return {"metadata": metadata, "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": conditions,
                       "containerStatuses": [{"name": "c", "restartCount": restarts}]}}


def test_scale_down_victim_order_follows_active_pods_with_ranks():
    now_ms = 10_000_000
    pods = [
        _pod("running-ready"),
        _pod("unassigned", node=""),
        _pod("pending", phase="Pending"),
        _pod("unknown", phase="Unknown"),
        _pod("not-ready", ready=False),
        _pod("cheap", cost=-10),
        _pod("crowded", node="n2"),
        _pod("young-ready", ready_ago_s=10),
        _pod("restarted", restarts=5),
        _pod("newer", age_s=100),
    ]
    # n2 holds ten more related pods (n1 holds eight), so "crowded" ranks before the others on n1.
    related = pods + [_pod(f"other-{i}", node="n2") for i in range(10)]
    order = [pod["metadata"]["name"] for pod in pods_to_delete(pods, related, len(pods) - 1, now_ms, 0)]
    assert order == ["unassigned", "pending", "unknown", "not-ready", "cheap", "crowded", "young-ready",
                     "restarted", "newer"]


def test_victim_order_does_not_depend_on_input_order():
    seed = random.randrange(10 ** 6)
    rng = random.Random(seed)
    pods = [_pod(f"p{i}", node=rng.choice(["a", "b", ""]), phase=rng.choice(["Pending", "Running"]),
                 ready=rng.random() < 0.5, age_s=rng.randint(1, 10_000)) for i in range(12)]
    expected = pods_to_delete(pods, pods, 5, 20_000_000, 0)
    shuffled = list(pods)
    rng.shuffle(shuffled)
    assert pods_to_delete(shuffled, shuffled, 5, 20_000_000, 0) == expected, f"seed {seed}"


def test_zone_state_rules():
    assert compute_zone_state(["True", "True"], 0.55) == "Normal"
    assert compute_zone_state(["Unknown", "False"], 0.55) == "FullDisruption"
    assert compute_zone_state(["True", "Unknown", "Unknown"], 0.55) == "Normal"   # not more than 2
    assert compute_zone_state(["True", "Unknown", "Unknown", "Unknown"], 0.55) == "PartialDisruption"
    assert compute_zone_state(["True"] * 4 + ["Unknown"] * 3, 0.55) == "Normal"   # 43 % < 55 %
    assert zone_eviction_rate("Normal", 3, CONFIG) == 0.1
    assert zone_eviction_rate("FullDisruption", 3, CONFIG) == 0.1
    assert zone_eviction_rate("PartialDisruption", 50, CONFIG) == 0.0
    assert zone_eviction_rate("PartialDisruption", 51, CONFIG) == 0.01


def test_token_bucket_admits_one_node_per_ten_seconds():
    bucket = TokenBucket(0.1, 0)
    admitted = [t for t in range(0, 30_001, 100) if bucket.try_accept(t)]
    assert admitted == [0, 10_000, 20_000, 30_000]
    assert not TokenBucket(0.0, 0).try_accept(100_000)


def test_swap_taints_adds_with_time_and_removes_by_key_and_effect():
    taints = [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
              {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": "x"}]
    swapped = swap_taints(taints, [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}],
                          [{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}], "now")
    assert swapped == [taints[0], {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": "now"}]
    assert swap_taints(taints, [taints[0]], [], "now") is None


def test_min_toleration_time():
    unreachable = [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]
    default = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                "tolerationSeconds": 300}]
    assert min_toleration_ms(unreachable, default) == 300_000
    assert min_toleration_ms(unreachable, []) is None
    assert min_toleration_ms(unreachable, [{"operator": "Exists"}]) == FOREVER
    assert min_toleration_ms(unreachable, default + [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                                      "tolerationSeconds": 0}]) == 0
