"""Staff views of the event bus: dead letters (with a retry action) and the outbox, both read-only.
Payloads and errors are shown with their secrets redacted (an event may carry a live reset link)."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from shop.kernel.redaction import redact, redact_data
from shop.registry.models import DeadLetter, OutboxEvent

# Stored fields shown through a redacting display instead of as they are.
_SHOWN_AS = {"payload": "payload_shown", "error": "error_shown"}


def _shown(names: list[str]) -> list[str]:
    return [_SHOWN_AS.get(name, name) for name in names]


def _pre(text: str) -> SafeString:
    return format_html('<pre style="white-space: pre-wrap; word-break: break-all; margin: 0">{}</pre>', redact(text))


class _Redacted:
    @admin.display(description="payload")
    def payload_shown(self, obj: DeadLetter | OutboxEvent) -> SafeString:
        return _pre(json.dumps(redact_data(obj.payload), indent=2, sort_keys=True, ensure_ascii=False, default=str))

    @admin.display(description="error")
    def error_shown(self, obj: DeadLetter) -> SafeString:
        return _pre(obj.error)


@admin.register(DeadLetter)
class DeadLetterAdmin(_Redacted, admin.ModelAdmin[DeadLetter]):
    list_display = ["created_at", "handler", "topic", "event_id", "attempts", "retried_at"]
    list_filter = ["topic", "handler", ("retried_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "handler", "error"]
    readonly_fields = _shown([f.name for f in DeadLetter._meta.fields])
    fields = tuple(readonly_fields)  # only these: the stored payload itself is never rendered
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
        """Schedule each letter for redelivery to its handler, with a fresh retry budget: the retry sweep
        runs it within ``SHOP_RETRY_SWEEP_SECONDS`` (no broker needed to accept it); the inbox keeps it once."""
        from shop.registry.bus import retries
        from shop.registry.bus.tasks import deliver_event

        count = 0
        for letter in queryset:
            try:
                retries.schedule(
                    deliver_event, {"handler": letter.handler, "topic": letter.topic, "payload": letter.payload}
                )
            except Exception as exc:
                self.message_user(request, f"Could not re-queue {letter}: {type(exc).__name__}: {exc}", messages.ERROR)
                continue
            letter.retried_at = timezone.now()
            letter.save(update_fields=["retried_at"])
            count += 1
        self.message_user(request, f"Re-queued {count} event(s).", messages.SUCCESS)


@admin.register(OutboxEvent)
class OutboxEventAdmin(_Redacted, admin.ModelAdmin[OutboxEvent]):
    list_display = ["created_at", "topic", "id", "sent_at", "attempts"]
    list_filter = ["topic", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "topic"]
    readonly_fields = _shown([f.name for f in OutboxEvent._meta.fields])
    fields = tuple(readonly_fields)  # only these: the stored payload itself is never rendered

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxEvent | None = None) -> bool:
        return False
