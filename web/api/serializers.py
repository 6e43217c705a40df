"""Request and response bodies of the REST API, as the OpenAPI schema documents them.

Request serializers check shapes and types only (and reject unknown fields); the service
functions in web/services.py check meaning (scenarios, actions, durations, rewind bounds).
The action body is passed to the scenario action checker as sent, so its serializer only
documents it.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cluster_sim.scenario import ACTIONS, MAX_SEED, list_shipped
from web.runtime import MAX_SPEED, MIN_SPEED

DURATION_SCHEMA = {
    "oneOf": [
        {"type": "string", "example": "60s",
         "description": 'Go duration ("90s", "1m30s", "250ms"), or a number of seconds as text'},
        {"type": "number", "description": "seconds"},
    ],
}


class StrictSerializer(serializers.Serializer):
    """Unknown fields are errors, not silently ignored: a typo must not look like success."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = [key for key in data if key not in self.fields]
            if unknown:
                known = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {str(key): [f"unknown field; known fields: {known}"] for key in unknown})
        return super().to_internal_value(data)


@extend_schema_field({
    "oneOf": [
        {"type": "string", "enum": list_shipped(), "description": "the name of a shipped scenario"},
        {"type": "object", "additionalProperties": True,
         "description": "a scenario document (docs/scenarios.md), as JSON"},
    ],
})
class ScenarioField(serializers.Field):
    """A shipped scenario's name or an inline document: passed on as given, checked by services."""

    def to_internal_value(self, data):
        if not isinstance(data, (str, dict)):
            raise serializers.ValidationError("must be the name of a shipped scenario or a scenario document")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(DURATION_SCHEMA)
class DurationField(serializers.Field):
    """A Go duration or a number of seconds; parsed by services (cluster_sim.durations)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            raise serializers.ValidationError('must be a duration such as "60s" or a number of seconds')
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({
    "oneOf": [
        {"type": "integer", "minimum": 0, "description": "virtual milliseconds since the cluster started"},
        {"type": "string", "example": "5m",
         "description": 'a duration since the start ("5m") or an RFC 3339 time of the virtual clock'},
    ],
})
class InstantField(serializers.Field):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            raise serializers.ValidationError("must be virtual milliseconds (an integer), a duration since "
                                              "the start such as \"5m\", or an RFC 3339 time")
        return data

    def to_representation(self, value):
        return value


# --- requests ---------------------------------------------------------------------------------

class ClusterCreateSerializer(StrictSerializer):
    """What to build. Unknown fields are errors."""

    scenario = ScenarioField(help_text="A shipped scenario's name, or an inline scenario document.")
    seed = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_SEED,
        help_text="Root seed of the simulation (default: the scenario's seed, else 1). "
                  "Same scenario + same seed + same actions = same cluster history.")
    paused = serializers.BooleanField(
        required=False, default=False,
        help_text="Start with the clock stopped at 0 ms (default: running at 1x). Advance it with "
                  "POST .../clock/ for runs that repeat exactly.")
    startTime = serializers.CharField(
        required=False, default="now",
        help_text='The calendar time of virtual 0 ms: "now" (default: the moment of creation, so a real '
                  'kubectl\'s client-side ages agree), "scenario" (the scenario\'s own startTime, for '
                  'repeatable timestamps) or an RFC 3339 time.')


class ActionSerializer(serializers.Serializer):
    """Documents the action body; the scenario action checker validates it (see docs/scenarios.md)."""

    def get_fields(self):
        fields = {
            "action": serializers.ChoiceField(choices=list(ACTIONS), help_text="; ".join(
                f"{name}: {spec.summary}" for name, spec in ACTIONS.items())),
            "target": serializers.CharField(
                required=False, help_text="A node, control-plane node, etcd member or machine name; "
                                          "\"namespace/name\" (or \"name\" in default) for pods, "
                                          "deployments and services."),
            "groups": serializers.ListField(child=serializers.ListField(child=serializers.CharField()),
                                            required=False, help_text="network.partition: machine groups"),
            "object": serializers.DictField(required=False, help_text="apply: a Kubernetes manifest"),
            "replicas": serializers.IntegerField(required=False, min_value=0, help_text="scale"),
            "image": serializers.CharField(required=False, help_text="rollout: the new image"),
            "container": serializers.CharField(required=False, help_text="rollout, container.crash"),
            "namespace": serializers.CharField(required=False, help_text="delete"),
            "kind": serializers.CharField(required=False, help_text="delete: with name"),
            "name": serializers.CharField(required=False, help_text="delete: with kind"),
            "resource": serializers.CharField(required=False, help_text='delete: "deployment/web"'),
            "from": serializers.CharField(required=False, help_text="service.request: the client's node"),
            "client": serializers.CharField(required=False, help_text="service.request: a client name"),
        }
        return fields


class ClockChangeSerializer(StrictSerializer):
    """Any of the fields, at least one; applied in the order paused=true, rewind/rewindTo, advance,
    speed, paused=false. Unknown fields are errors."""

    def get_fields(self):
        return {
            "speed": serializers.FloatField(
                required=False, min_value=MIN_SPEED, max_value=MAX_SPEED,
                help_text=f"Virtual seconds per wall-clock second, {MIN_SPEED:g} to {MAX_SPEED:g}."),
            "paused": serializers.BooleanField(required=False, help_text="Stop or restart the clock."),
            "advance": DurationField(required=False, help_text="Run the simulation this much further at once "
                                                               "(at most 15m per request)."),
            "rewind": DurationField(required=False, help_text="Go back this much and branch from there: "
                                                              "actions sent after that point are forgotten."),
            "rewindTo": InstantField(required=False, help_text="Go back to this point of virtual time."),
        }


# --- responses --------------------------------------------------------------------------------

class NowSerializer(serializers.Serializer):
    ms = serializers.IntegerField(help_text="Virtual milliseconds since the cluster started.")
    time = serializers.CharField(help_text="The same instant as an RFC 3339 time of the scenario's calendar.")


class ClockSettingsSerializer(serializers.Serializer):
    speed = serializers.FloatField()
    paused = serializers.BooleanField()


class ClockSerializer(serializers.Serializer):
    now = NowSerializer()
    clock = ClockSettingsSerializer()


class NodeSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.CharField(help_text="As kubectl get nodes prints it: Ready, NotReady, "
                                             "with \",SchedulingDisabled\" when cordoned.")
    ready = serializers.ChoiceField(choices=["True", "False", "Unknown"], help_text="The Ready condition.")
    roles = serializers.ListField(child=serializers.CharField())


class ClusterSerializer(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.URLField(help_text="This resource.")
    scenario = serializers.CharField(help_text="The scenario's name.")
    seed = serializers.IntegerField()
    server = serializers.URLField(help_text="The Kubernetes API base URL (kubectl --server); it carries the "
                                            "cluster's secret: anyone with it can use the cluster.")
    kubeconfig = serializers.URLField(help_text="Downloads a kubeconfig for this cluster.")
    now = NowSerializer()
    clock = ClockSettingsSerializer()
    nodes = NodeSummarySerializer(many=True, help_text="Nodes as stored in etcd (empty while booting).")


class EventSummarySerializer(serializers.Serializer):
    t = serializers.IntegerField(help_text="Virtual milliseconds.")
    seq = serializers.IntegerField()
    kind = serializers.CharField(help_text="Event kind (docs/events.md).")
    source = serializers.CharField()
    target = serializers.CharField()


class ActionResultSerializer(serializers.Serializer):
    action = serializers.DictField(help_text="The action as checked and normalised (fields not given left out).")
    events = EventSummarySerializer(many=True, help_text="Events the action produced at once; its "
                                                         "consequences unfold as the clock runs.")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.CharField(help_text="invalid, not_found, limit_reached, parse_error, "
                                           "unsupported_media_type, permission_denied, ...")
    source = serializers.CharField(required=False, help_text="Scenario/action errors: the document.")
    path = serializers.CharField(required=False, help_text="Where in the document (e.g. topology.workers.count).")
    message = serializers.CharField(required=False, help_text="Scenario/action errors: the message alone.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="Field-by-field errors of the request body.")
