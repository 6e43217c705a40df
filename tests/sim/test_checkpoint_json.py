"""Checkpoints are written in parts (cluster_sim.cluster.compact_json_in_parts) so the encoder never
holds the interpreter's lock for a whole cluster; the text must be exactly json.dumps's."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_sim.cluster import Cluster, compact_json_in_parts
from cluster_sim.scenario import load_scenario, shipped_path

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text() | st.integers(), inner, max_size=4), max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_parts_make_the_same_text_as_one_call(document):
    assert compact_json_in_parts(document) == json.dumps(document, separators=(",", ":"))


def test_a_real_checkpoint_is_the_same_text():
    cluster = Cluster.from_scenario(load_scenario(shipped_path("basic")), 5)
    cluster.run_until(60_000)
    snapshot = cluster.sim.snapshot()
    assert compact_json_in_parts(snapshot) == json.dumps(snapshot, separators=(",", ":"))
