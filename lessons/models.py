from django.db import models


class LessonProgress(models.Model):
    """One learner's progress through one lesson, kept server-side.

    A learner is a browser session for now (``session_key``); workshops can attach students by
    pointing several rows at one roster entry later without changing how steps are recorded.
    """

    session_key = models.CharField(max_length=64, db_index=True)
    lesson_slug = models.CharField(max_length=100)
    completed_steps = models.JSONField(default=list)
    current_step = models.CharField(max_length=100, blank=True, default="")
    # The live cluster the lesson page runs; clusters live in memory, so after a server restart
    # this id is stale and the page builds a fresh cluster from the lesson's scenario.
    cluster_id = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session_key", "lesson_slug"], name="one_progress_per_learner_and_lesson"),
        ]

    def __str__(self) -> str:
        return f"{self.lesson_slug} ({len(self.completed_steps)} steps) for {self.session_key[:8]}"
