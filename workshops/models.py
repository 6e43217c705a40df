"""Instructor-led workshops: a room of students, each with their own cluster, and what the
instructor did to all of them at once. Clusters live in web.runtime; rows here only name them."""
from django.conf import settings
from django.db import models
from django.db.models import Q

# No 0/O or 1/I/L: codes are read off a projector and typed on phones.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6


class Workshop(models.Model):
    SCHEDULED, OPEN, CLOSED = "scheduled", "open", "closed"
    STATUSES = [(SCHEDULED, "scheduled"), (OPEN, "open"), (CLOSED, "closed")]

    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workshops")
    title = models.CharField(max_length=200)
    lessons = models.JSONField(default=list, blank=True)  # lesson slugs, in teaching order
    scenario = models.CharField(max_length=100, blank=True, default="")  # a shipped scenario when no lessons
    code = models.CharField(max_length=CODE_LENGTH)
    status = models.CharField(max_length=10, choices=STATUSES, default=OPEN)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    clocks_paused = models.BooleanField(default=False)
    presenter_cluster_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("run_workshop", "Can create and run workshops")]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~Q(status="closed"), name="one_open_workshop_per_code"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"

    @property
    def is_closed(self) -> bool:
        return self.status == self.CLOSED


class RevokedCode(models.Model):
    """A join code the instructor withdrew: joining with it says so instead of "not found"."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="revoked_codes")
    code = models.CharField(max_length=CODE_LENGTH, db_index=True)
    revoked_at = models.DateTimeField(auto_now_add=True)


class Student(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="students")
    name = models.CharField(max_length=60)
    session_key = models.CharField(max_length=64, db_index=True)
    lesson_slug = models.CharField(max_length=100, blank=True, default="")
    cluster_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    last_action = models.CharField(max_length=200, blank=True, default="")
    last_action_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workshop", "session_key"], name="one_student_per_session_and_workshop"),
        ]
        ordering = ["joined_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} in {self.workshop.code}"


class Broadcast(models.Model):
    """An action sent to every student's cluster, optionally asked about first."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="broadcasts")
    action = models.JSONField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)  # None while the question is open
    question = models.CharField(max_length=300, blank=True, default="")
    # Per student id (as a string): the virtual ms it applied at, or why it could not.
    results = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]


class Answer(models.Model):
    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="answers")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="answers")
    text = models.CharField(max_length=500)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["broadcast", "student"], name="one_answer_per_student")]
