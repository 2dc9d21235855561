"""Staff view of notifications: the log (filter by status, kind and order), a resend action, and a
preview of every template rendered with sample data (text and HTML), so a template change is seen
before a customer sees it. The orders admin links each order to this log filtered by it
(``?order=<id>``): orders sits below notifications and never asks it anything."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from shop.kernel import DomainError
from shop.kernel.redaction import redact
from shop.notifications import api, services
from shop.notifications.models import Notification
from shop.web.admin_kit import compact_time, narrow
from shop.web.redaction import redacted_text

MAX_PER_ACTION = 200


class OrderFilter(admin.SimpleListFilter):
    """The emails about one order (``?order=<order id>``), as linked from the order's admin page."""

    title = "order"
    parameter_name = "order"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        return [(value, f"order #{value}")] if value else []  # only the one asked for: there is no list of orders

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not (value.isascii() and value.isdigit() and int(value) < 2**63):
            return queryset.none()
        return queryset.filter(order_id=int(value))


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    # Narrow columns: beside the admin's sidebar and the filters, eight wide ones pushed the last off the page.
    list_display = ["kind", "to", "subject", "status", "attempts", "created"]
    list_display_links = ["kind"]
    list_filter = ["status", "kind", "created_at", OrderFilter]
    search_fields = ["recipient", "subject", "=event_id"]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    readonly_fields = (
        "event_id",
        "kind",
        "user_id",
        "order_id",
        "recipient",
        "subject",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "created_at",
        "text",
        "html_preview",
    )
    fields = readonly_fields
    actions = ["resend"]
    change_list_template = "admin/notifications/notification/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_notification")

    @admin.display(description="text")
    def text(self, obj: Notification) -> str:
        """Links that are secrets (password reset, order status) show as ``[redacted]``."""
        return redacted_text(obj.body_text)

    @admin.display(description="to", ordering="recipient")
    def to(self, obj: Notification) -> SafeString:
        return narrow(obj.recipient)

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Notification) -> SafeString:
        return compact_time(obj.created_at)

    @admin.display(description="HTML")
    def html_preview(self, obj: Notification) -> str:
        return format_html(
            '<iframe sandbox="" srcdoc="{}" style="width: 100%; height: 400px; border: 1px solid #ccc;"></iframe>',
            redact(obj.body_html),
        )

    @admin.action(description="Resend", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        ids = list(queryset.values_list("pk", flat=True)[: MAX_PER_ACTION + 1])
        if len(ids) > MAX_PER_ACTION:
            self.message_user(request, f"Select at most {MAX_PER_ACTION} notifications.", level=messages.ERROR)
            return
        done = 0
        for pk in ids:
            try:
                services.resend(notification_id=pk)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{pk}: {exc.detail}", level=messages.WARNING)
        if done:
            self.message_user(request, f"Queued {done} notification(s) for sending again.", level=messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        preview = [
            path("preview/", self.admin_site.admin_view(self.preview_index), name="notifications_preview"),
            path("preview/<str:kind>/", self.admin_site.admin_view(self.preview), name="notifications_preview_kind"),
        ]
        return preview + super().get_urls()

    def preview_index(self, request: HttpRequest) -> HttpResponse:
        links = format_html_join(
            "", '<li><a href="{}/">{}</a></li>', ((kind, kind.replace("_", " ")) for kind in api.KINDS)
        )
        context = {**self.admin_site.each_context(request), "title": "Email previews", "links": links, "kind": None}
        return TemplateResponse(request, "admin/notifications/notification/preview.html", context)

    def preview(self, request: HttpRequest, kind: str) -> HttpResponse:
        if kind not in api.KINDS:
            from django.http import Http404

            raise Http404
        rendered = services.render(api.Kind(kind), services.Samples.context(api.Kind(kind)))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {kind.replace('_', ' ')}",
            "kind": kind,
            "subject": rendered.subject,
            "text": rendered.text,  # sample data only: no live link to redact
            "html": rendered.html,
        }
        return TemplateResponse(request, "admin/notifications/notification/preview.html", context)
