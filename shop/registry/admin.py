"""Staff views of the event bus: dead letters (with a retry action) and the outbox, both read-only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from shop.registry.models import DeadLetter, OutboxEvent


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin[DeadLetter]):
    list_display = ["created_at", "handler", "topic", "event_id", "attempts", "retried_at"]
    list_filter = ["topic", "handler", ("retried_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "handler", "error"]
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DeadLetter | None = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        """Re-queueing changes what happens next, so it needs the change permission, not just view."""
        return request.user.has_perm("registry.change_deadletter")

    @admin.action(description="Retry delivery of the selected events", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        """Send each letter to its handler again, with a fresh retry budget; the inbox keeps it once."""
        from shop.registry.bus import send_delivery

        count = 0
        for letter in queryset:
            try:
                send_delivery(handler=letter.handler, topic=letter.topic, payload=letter.payload)
            except Exception as exc:
                self.message_user(request, f"Could not re-queue {letter}: {type(exc).__name__}: {exc}", messages.ERROR)
                continue
            letter.retried_at = timezone.now()
            letter.save(update_fields=["retried_at"])
            count += 1
        self.message_user(request, f"Re-queued {count} event(s).", messages.SUCCESS)


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin[OutboxEvent]):
    list_display = ["created_at", "topic", "id", "sent_at", "attempts"]
    list_filter = ["topic", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "topic"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxEvent | None = None) -> bool:
        return False
