"""One row per (event, kind): what was (or will be) sent to whom, and how it went. The rendered
subject and bodies are stored, so a retry or a resend sends exactly what was first rendered."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from shop.notifications import api

STATUS_CHOICES = [(s, s) for s in api.STATUSES]
KIND_CHOICES = [(k, k.replace("_", " ")) for k in api.KINDS]


class Notification(models.Model):
    event_id = models.UUIDField()
    kind = models.CharField(max_length=30, choices=KIND_CHOICES)
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)  # the order an email is about, if any
    recipient = models.EmailField()
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField()
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=api.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "kind"], name="notification_once_per_event_and_kind"),
            models.CheckConstraint(condition=Q(status__in=api.STATUSES), name="notification_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient}"

    @property
    def message_id(self) -> str:
        """Stable per notification: a copy sent twice (a worker killed after SMTP accepted it) carries
        the same Message-ID, which mail systems use to drop the duplicate."""
        return f"<notification-{self.pk}-{self.event_id}@shop>"
