"""What makes a live cluster durable: its recipe, its journal of actions and its snapshots.

A cluster is rebuilt from its scenario and seed, the latest snapshot, and the journaled actions
recorded after that snapshot (docs/persistence.md). Documents are stored as JSON *text*, not
JSONField: PostgreSQL's jsonb reorders keys, and key order is part of what a simulation replays.
"""
from django.db import models
from django.utils import timezone


class ClusterRecord(models.Model):
    """One learner's cluster: everything needed to rebuild it, and where its clock stood."""

    id = models.CharField(primary_key=True, max_length=32)
    # The Kubernetes API front end finds a cluster by the secret in its URL (registry.by_secret).
    secret = models.CharField(max_length=64, unique=True)
    owner_session = models.CharField(max_length=64, db_index=True)
    scenario_name = models.CharField(max_length=200)
    # Scenario.as_dict() as JSON text: rebuilds the identical Scenario, startTime included.
    scenario_json = models.TextField()
    # The seed the cluster was created with (None: the scenario's own seed or the default).
    seed = models.BigIntegerField(null=True)
    speed = models.FloatField(default=1.0)
    paused = models.BooleanField(default=False)
    # Virtual time at the last persisted point; a restored cluster continues from here.
    virtual_ms = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When someone last used the cluster (retention counts from here).
    last_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"cluster {self.id} ({self.scenario_name}) at {self.virtual_ms} ms"


class ClusterAction(models.Model):
    """One recorded action, journaled before the request that caused it was answered."""

    cluster = models.ForeignKey(ClusterRecord, on_delete=models.CASCADE, related_name="actions")
    # Position in Cluster.recorded_actions (0, 1, 2...).
    ordinal = models.IntegerField()
    at_ms = models.BigIntegerField()
    # The simulation's heap sequence number the action was scheduled with: replay checks it.
    heap_seq = models.BigIntegerField()
    # The action without at_ms and heap_seq, as JSON text.
    action_json = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "ordinal"], name="one_action_per_cluster_ordinal"),
        ]
        ordering = ["cluster", "ordinal"]

    def __str__(self) -> str:
        return f"action {self.ordinal} of {self.cluster_id} at {self.at_ms} ms"


class ClusterSnapshot(models.Model):
    """A whole simulation state (Simulation.snapshot() as JSON, zlib-compressed)."""

    cluster = models.ForeignKey(ClusterRecord, on_delete=models.CASCADE, related_name="snapshots")
    virtual_ms = models.BigIntegerField()
    heap_seq = models.BigIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "virtual_ms"], name="one_snapshot_per_cluster_time"),
        ]
        ordering = ["cluster", "virtual_ms"]

    def __str__(self) -> str:
        return f"snapshot of {self.cluster_id} at {self.virtual_ms} ms ({len(self.data)} bytes)"


class ServerProcess(models.Model):
    """One running server process (docs/deploy.md): where it listens on the channel layer, and
    whether it is alive. A process that misses heartbeats for ownership.LEASE_TTL_S is dead, and so
    are its leases."""
    # Stable across restarts when APP_PROCESS_NAME is set (host:port), so a restarted process takes
    # its predecessor's leases at once instead of waiting for them to lapse.
    name = models.CharField(primary_key=True, max_length=200)
    # Which start of that process: leases taken by an earlier start are void.
    boot_id = models.CharField(max_length=32)
    channel = models.CharField(max_length=200)
    heartbeat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"process {self.name} ({self.boot_id})"


class ClusterLease(models.Model):
    """Which process holds a cluster in memory and advances it: the only one that may journal it."""
    cluster = models.OneToOneField(ClusterRecord, primary_key=True, on_delete=models.CASCADE, related_name="lease")
    holder = models.CharField(max_length=200)
    holder_boot_id = models.CharField(max_length=32)
    acquired_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"lease of {self.cluster_id} held by {self.holder}"
