from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from shop.registry.models import DeadLetter, OutboxEvent
from shop.registry.tasks import deliver_event


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

    @admin.action(description="Retry delivery of the selected events", permissions=["view"])
    def retry(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        from shop.registry.bus import subscription
        from shop.registry.contexts import queue_for

        count = 0
        for letter in queryset:
            deliver_event.apply_async(
                kwargs={"handler": letter.handler, "topic": letter.topic, "payload": letter.payload},
                queue=queue_for(subscription(letter.handler).context),
            )
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
