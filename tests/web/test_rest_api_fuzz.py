"""Random bodies for the two checkers that take free-form documents from the network: whatever
arrives, the answer is a checked result or an InvalidInput (a 400), never another exception (a 500)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_sim import scenario as scenario_module
from cluster_sim.cluster import Cluster
from cluster_sim.scenario import ACTIONS, Scenario, load_scenario, shipped_path
from web import services
from web.runtime import LiveCluster, registry

FIELD_NAMES = sorted(set(
    scenario_module.TOP_LEVEL_FIELDS + scenario_module.TOPOLOGY_FIELDS + scenario_module.CONTROL_PLANE_FIELDS
    + scenario_module.WORKER_FIELDS + scenario_module.WORKER_GROUP_FIELDS + scenario_module.NETWORK_FIELDS
    + scenario_module.TAINT_FIELDS + scenario_module.IMAGE_FIELDS
    + ["at", "action", "target", "apiVersion", "kind", "metadata", "spec", "replicas", "groups", "object",
       "resource", "image", "container", "namespace", "from", "client"]))
PLAUSIBLE_TEXT = ["cp-1", "worker-1", "worker-2", "etcd-1", "web", "default/web", "1m", "90", "stacked",
                  "external", "NoSchedule", "2Gi", "500m", "nginx:1.27", "v1", "apps/v1", "Pod",
                  "deployment/web", "2025-01-01T00:00:00Z", ""] + list(ACTIONS)

scalars = (st.none() | st.booleans() | st.integers(-3, 6) | st.integers() | st.floats(allow_nan=True)
           | st.sampled_from(PLAUSIBLE_TEXT) | st.text(max_size=6))
keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=4)
documents = st.recursive(
    scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=40)
scenario_documents = st.fixed_dictionaries(
    {"name": st.sampled_from(["fuzz"]) | scalars},
    optional={"topology": documents, "objects": documents, "timeline": documents, "seed": scalars,
              "startTime": scalars, "description": scalars})
action_documents = st.fixed_dictionaries(
    {"action": st.sampled_from(list(ACTIONS)) | scalars},
    optional={name: documents for name in ["target", "groups", "object", "replicas", "image", "container",
                                           "namespace", "kind", "name", "resource", "from", "client"]}) | documents


@settings(max_examples=400, deadline=None)
@given(document=scenario_documents)
def test_any_inline_scenario_is_accepted_or_refused_with_a_message(document) -> None:
    try:
        checked = services.resolve_scenario(document)
    except services.InvalidInput as error:
        assert str(error).startswith("request body")
    else:
        assert isinstance(checked, Scenario)


BASIC = LiveCluster(cluster_id="fuzz", cluster=Cluster.from_scenario(load_scenario(shipped_path("basic"))),
                    owner_session="fuzz", scenario_name="basic")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(action=action_documents)
def test_any_action_body_is_accepted_or_refused_with_a_message(action) -> None:
    try:
        checked = services.check_action(live=BASIC, action=action)
    except services.InvalidInput as error:
        assert str(error).startswith("request body")
    else:
        assert checked["action"] in ACTIONS


times = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
         | st.sampled_from(["5m", "0", "-1s", "1.5ms", "2025-01-01T00:00:10Z", "2025-13-01T00:00:00Z",
                            "2025-01-01T00:00:10+25:00", "9999999999h", "1e400", " 10s ", "nan", "inf"]))


# Clusters made by services.create_cluster are durable: recorded in the database (docs/persistence.md).
@pytest.mark.django_db
@settings(max_examples=300, deadline=None)
@given(speed=times, paused=times, rewind=times, rewind_to=times)
def test_any_clock_request_is_carried_out_or_refused_with_a_message(speed, paused, rewind, rewind_to) -> None:
    # A paused cluster at 0 ms: whatever is valid here is cheap to carry out.
    live = services.create_cluster(session_key="fuzz-clock", scenario="basic", paused=True)
    try:
        services.set_clock(session_key="fuzz-clock", cluster_id=live.id, speed=speed, paused=paused,
                           rewind=rewind, rewind_to=rewind_to)
    except services.InvalidInput as error:
        assert str(error)
    finally:
        registry.delete(live.id)
