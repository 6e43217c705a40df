"""Security tests: each starts with full token buckets and deletes the clusters it made."""
import pytest

from web import limits
from web.runtime import registry


@pytest.fixture(autouse=True)
def fresh_limits_and_no_leftover_clusters(django_db_blocker):
    """Every test starts with full token buckets and deletes the clusters it made."""
    limits.actions.reset()
    limits.reads.reset()
    limits.cluster_creations.reset()
    before = set(registry.clusters)
    yield
    with django_db_blocker.unblock():  # may run after the test's database fixture is gone
        for cluster_id in set(registry.clusters) - before:
            registry.delete(cluster_id)
    limits.actions.reset()
    limits.reads.reset()
    limits.cluster_creations.reset()
