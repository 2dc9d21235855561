"""Outbox, inbox, dead letters and internal-call nonces. Migrated onto every context's database (see the router)."""

from __future__ import annotations

import uuid

from django.db import models


class OutboxEvent(models.Model):
    """An event written in the publisher's transaction, waiting to be relayed."""

    id = models.UUIDField(primary_key=True)
    topic = models.CharField(max_length=200)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="outbox_unsent_idx", condition=models.Q(sent_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.id}"


class InboxEntry(models.Model):
    """Proof that ``handler`` already handled ``event_id``: written in the handler's transaction."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=300)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_id", "handler"], name="inbox_once_per_handler")]
        verbose_name_plural = "inbox entries"

    def __str__(self) -> str:
        return f"{self.handler} ✓ {self.event_id}"


class DeadLetter(models.Model):
    """A delivery that exhausted its retries. Staff inspect it and retry it from the admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    handler = models.CharField(max_length=300)
    topic = models.CharField(max_length=200)
    event_id = models.UUIDField()
    payload = models.JSONField()
    error = models.TextField()
    attempts = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    retried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.handler} ← {self.topic} {self.event_id}"


class InternalCallNonce(models.Model):
    """A signed internal call's nonce, kept while its signature is valid so the call runs once.

    On the database of the context the call was for: every process serving that context sees it."""

    nonce = models.CharField(max_length=32, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.nonce


class ScheduledRetry(models.Model):
    """A failed attempt of a durable task (``registry.DurableTask``), kept until it succeeds or gives up.

    Written in the task's own database before its message is acked, so neither a retry that cannot be
    published nor a worker that dies loses it; ``shop.registry.retry_due`` runs it again when due.
    """

    task = models.CharField(max_length=200)  # the Celery task's name
    key = models.CharField(max_length=300)  # what is being retried, e.g. "<handler> <event id>"
    context = models.CharField(max_length=30)  # whose worker sweeps it
    kwargs = models.JSONField()
    attempts = models.PositiveIntegerField(default=0)  # started so far (a sweep counts one when it claims it)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "key"], name="retry_once_per_task_and_key")]
        indexes = [models.Index(fields=["next_attempt_at"], name="retry_due_idx")]

    def __str__(self) -> str:
        return f"{self.task} {self.key} (attempt {self.attempts})"
