"""Request and response bodies of /api/workshops/, as the OpenAPI schema documents them.

The views keep reading request.data themselves (workshops.services checks meaning); these
serializers document the shapes for /api/schema/.
"""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from web.api import serializers as cluster_bodies

from .models import Workshop
from .services import MAX_NAME_CHARS


STATUSES = [Workshop.SCHEDULED, Workshop.OPEN, Workshop.CLOSED]


class WorkshopCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    lessons = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="Lesson slugs, in teaching order (GET /lessons/ lists them).")
    scenario = serializers.CharField(required=False, help_text="A shipped scenario, when there are no lessons.")
    status = serializers.CharField(required=False, default=Workshop.OPEN,
                                   help_text='"open" (the default) or "scheduled" (opened later with .../status/).')


class WorkshopSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="The join code: six characters without 0/O or 1/I/L.")
    title = serializers.CharField()
    lessons = serializers.ListField(child=serializers.CharField())
    scenario = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    clocksPaused = serializers.BooleanField(help_text="Every student's clock is paused.")
    startsAt = serializers.DateTimeField(allow_null=True)
    endsAt = serializers.DateTimeField(allow_null=True)
    joinUrl = serializers.URLField(help_text="The page students open (also shown as a QR code).")
    students = serializers.IntegerField()


class JoinSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_NAME_CHARS, help_text="The name the instructor sees.")


class JoinedStudentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    lesson = serializers.CharField(help_text="The lesson the student is in (empty for a scenario workshop).")


class JoinedWorkshopSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()


class JoinAnswerSerializer(cluster_bodies.ClusterSerializer):
    """The student's own cluster, as POST /api/clusters/ answers, plus who and where."""

    student = JoinedStudentSerializer()
    workshop = JoinedWorkshopSerializer()


class BroadcastRequestSerializer(cluster_bodies.ActionSerializer):
    """An action (as POST /api/clusters/{id}/actions/ takes), optionally asked about first."""

    def get_fields(self):
        fields = super().get_fields()
        fields["question"] = serializers.CharField(required=False, max_length=300,
                                                   help_text="A prediction question shown to students.")
        fields["askFirst"] = serializers.BooleanField(
            required=False, default=False,
            help_text="Show the question and wait: the action applies with .../broadcasts/{id}/apply/.")
        return fields


class BroadcastResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    atMs = serializers.IntegerField(required=False, help_text="The virtual ms it applied at in that cluster.")
    error = serializers.CharField(required=False)


class BroadcastAnswerSerializer(serializers.Serializer):
    student = serializers.CharField()
    answer = serializers.CharField()


class BroadcastSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.DictField()
    question = serializers.CharField()
    applied = serializers.BooleanField(help_text="False while a question waits for answers.")
    results = serializers.DictField(child=BroadcastResultSerializer(), help_text="Per student id.")
    answers = BroadcastAnswerSerializer(many=True)


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=500)


class AnswerAcceptedSerializer(serializers.Serializer):
    ok = serializers.BooleanField()


class RosterRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    clusterId = serializers.CharField()
    lesson = serializers.CharField()
    currentStep = serializers.CharField(help_text="Empty once the lesson is finished.")
    stepsDone = serializers.ListField(child=serializers.CharField())
    joinedAt = serializers.DateTimeField()
    completedAt = serializers.DateTimeField(allow_null=True)
    lastAction = serializers.CharField()
    lastActionAt = serializers.DateTimeField(allow_null=True)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUSES,
                                     help_text="closed makes the workshop read-only and pauses every clock.")


class ClockSerializer(serializers.Serializer):
    paused = serializers.BooleanField()


class StepSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="A step id of the lesson.")
    lesson = serializers.CharField(required=False, help_text="One of the workshop's lessons (default: the first).")


ERROR_DESCRIPTIONS = {
    400: "Bad input (a field, an action that does not fit the students' clusters); nothing was changed.",
    401: "No valid token or session.",
    403: "Not an instructor, not this workshop's instructor, or not one of its students; or a CSRF failure.",
    404: "No workshop with this code (or no such broadcast).",
    409: "The workshop is closed (read-only) or not open yet.",
    410: "The join code was revoked: ask the instructor for the new one.",
    429: "The workshop is full, or no free join code was found.",
}


def errors(*codes: int) -> dict:
    return {code: OpenApiResponse(cluster_bodies.ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
            for code in codes}
