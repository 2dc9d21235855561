# long-module: the admin kit: the plan/confirm/act protocol and its page, one contract read as a whole
"""The admin kit: how staff act on objects and read other contexts' data, alike in every context.

An action is a ``StaffAction`` subclass that says what it needs and calls its context's services:

* ``form()`` — input, if any: values for the whole run (a carrier, a note) and/or one field per
  object (an amount), named by ``row_field()``;
* ``plan()`` — what will happen to each selected object (a ``Step``: the amounts, items and stock it
  moves), or why nothing will (``Step.refusal``); its context's services decide, not the admin;
* ``apply()`` — the service call for one object.

The kit runs it. First the form page (if the action has input); then, for an action that moves
money or stock (``confirm = True``), the confirmation page: the plan, row by row, with a total, and
nothing changed yet. Only the confirmed POST acts, and only if the plan is still the one that was
shown (its digest travels with the page; if anything changed meanwhile, the new plan is shown
instead). The confirmation carries a one-time token that actions put into their idempotency keys,
so a confirmation submitted twice moves money once. A refusal is a warning and the others go on.
The pages are plain HTML forms (one template, ``admin/kit/action.html``), posted back to the
changelist like Django's own intermediate action pages, so the same action also runs from a
button on the object's page (``KitAdmin``, ``admin/kit/change_form.html``).

Every admin page must keep working while another context cannot answer: ``unless_unavailable``
turns a ``ContextUnavailable`` into a fallback, and ``customer_labels`` shows ids instead of emails.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from uuid import uuid4

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from shop.kernel import ContextUnavailable, DomainError

M = TypeVar("M", bound=Model)
T = TypeVar("T")

ACTION_TEMPLATE = "admin/kit/action.html"
CHANGE_FORM_TEMPLATE = "admin/kit/change_form.html"
STAGE = "_kit_stage"  # "" (the action was just chosen), "review" (the form was sent), "confirm"
DIGEST = "_kit_plan"  # the digest of the plan the confirmation page showed
TOKEN = "_kit_token"  # one per confirmation page: the run's idempotency
NEXT = "_kit_next"  # where to go afterwards (the object's page, when the action ran from there)
REVIEW, CONFIRM = "review", "confirm"
_TOKEN_SHAPE = re.compile(r"^[0-9a-f]{32}$")


# --- reading other contexts ------------------------------------------------------------------------
def load_saved(target: Model, saved: Model) -> None:
    """Make the admin's in-memory ``target`` the row a service saved as ``saved``: Django's admin keeps
    using the object it handed to ``save_model`` (its pk for the log entry and the redirect, its fields
    for the message), while our services save their own instance. Public model API only: one reload."""
    target.pk = saved.pk
    target.refresh_from_db()
    target._state.adding = False  # as Model.from_db does (documented in "Customizing model loading")


def unless_unavailable(fetch: Callable[[], T], fallback: T) -> T:
    """``fetch()`` (a call to another context), or ``fallback`` when that context cannot answer now:
    an admin page shows what it has instead of failing."""
    try:
        return fetch()
    except ContextUnavailable:
        return fallback


class _Customer(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


def customer_labels(ids: Iterable[int], get_users: Callable[[list[int]], Iterable[_Customer]]) -> dict[int, str]:
    """A label ("email (#id)") per customer id from one call (``get_users``, e.g. ``UsersAPI.get_users``);
    the ids alone, said so, when the users context cannot answer."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    users = unless_unavailable(lambda: list(get_users(wanted)), None)
    if users is None:
        return {i: f"user #{i} (email unavailable)" for i in wanted}
    emails = {user.id: user.email for user in users}
    return {i: f"{emails[i]} (#{i})" if emails.get(i) else f"user #{i} (deleted)" for i in wanted}


def compact_time(moment: datetime | None) -> SafeString:
    """A list column's date on one short line ("2026-12-05", local time; the time shows on hover):
    the admin's long form ("Dec. 5, 2026, 2:03 p.m.") wraps and pushes the last columns off a list."""
    if moment is None:
        return format_html("{}", "-")
    local = localtime(moment)
    return format_html(
        '<span style="white-space: nowrap" title="{}">{}</span>', local.strftime("%H:%M"), local.strftime("%Y-%m-%d")
    )


def narrow(value: object, width_em: int = 11) -> SafeString:
    """A long value (an email) that wraps anywhere within ``width_em``, so one long row cannot widen a list."""
    return format_html(
        '<span style="display: inline-block; max-width: {}em; overflow-wrap: anywhere">{}</span>', width_em, value
    )


def nowrap(value: object) -> SafeString:
    """A short value that must not break across lines (an order number, an amount)."""
    return format_html('<span style="white-space: nowrap">{}</span>', value)


class ReadOnlyInline:
    """Mix into an inline whose rows are part of the object and change only through services: shown
    to whoever may view the object, never added to, edited or deleted here."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PageChangeList(ChangeList):
    """A changelist whose ModelAdmin completes a whole page at once (``KitAdmin.complete_page``), so
    data from another context costs one call per page, never one per row."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        complete = getattr(self.model_admin, "complete_page", None)
        if complete is not None:
            complete(request, rows)
        self.result_list = rows


# --- acting ----------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Step:
    """One selected object on the action's page: what it is, and what will happen to it."""

    obj: Any
    label: str  # how staff name it: "SO-7K3Q-9XW2", "Payment #12"
    cells: Sequence[Any] = ()  # one per ``StaffAction.columns``
    effect: str = ""  # what will happen, with its amounts, items and stock ("" on the form page)
    refusal: str = ""  # why nothing will happen to it ("" = it will be acted on)
    data: dict[str, Any] = field(default_factory=dict)  # what ``apply`` needs from the plan

    @property
    def acts(self) -> bool:
        return not self.refusal


class NotDone(Exception):
    """``apply``: the service accepted the request but it is not finished (e.g. the gateway has not
    confirmed a refund yet); reported as a warning with this message."""


def refusal_text(exc: DomainError) -> str:
    """What the rules said, with what is left to refund when a refund is too large."""
    left = exc.extra.get("refundable")
    return f"{exc.detail} (at most {left} left)" if left is not None else exc.detail


class StaffAction(Generic[M]):
    """One admin action, run by the kit (see the module docstring). Subclasses set the class
    attributes and implement ``plan`` and ``apply``; ``form``/``row_field`` when they need input."""

    name: ClassVar[str]  # the action's name in the changelist
    label: ClassVar[str]  # the menu and button text
    title: ClassVar[str]  # the page title
    permission: ClassVar[str]  # the ModelAdmin's has_<permission>_permission decides who may
    done: ClassVar[str]  # past participle for the messages: "refunded", "marked fulfilled"
    noun: ClassVar[str] = "object(s)"  # "order(s)"
    label_column: ClassVar[str] = "Object"
    columns: ClassVar[tuple[str, ...]] = ()
    input_column: ClassVar[str] = ""  # the heading of the column holding each object's own input
    intro: ClassVar[str] = ""
    confirm: ClassVar[bool] = True  # moves money or stock: a confirmation page before anything happens
    submit_label: ClassVar[str] = "Confirm"
    max_objects: ClassVar[int] = 200  # each one is its own service call

    def __init__(self, model_admin: admin.ModelAdmin[M]) -> None:
        self.model_admin = model_admin

    # --- what subclasses provide ---
    def objects(self, queryset: QuerySet[M]) -> list[M]:
        return list(queryset.order_by("pk")[: self.max_objects + 1])

    def form(self, data: Any, objects: Sequence[M]) -> forms.Form | None:
        """The action's input (``data`` is the POST once the form was sent, else ``None``)."""
        return None

    def row_field(self, obj: M) -> str | None:
        """The name of ``obj``'s own field in the form (shown in its row), if it has one."""
        return None

    def plan(self, request: HttpRequest, objects: Sequence[M], form: forms.Form | None) -> list[Step]:
        """A ``Step`` per object, in order. ``form`` is valid, or ``None`` on the form page (the
        effects that depend on the input are then left empty)."""
        raise NotImplementedError

    def heading(self, objects: Sequence[M]) -> str:
        """The page's title."""
        return self.title

    def summary(self, steps: Sequence[Step]) -> str:
        """One line under the confirmation table (e.g. the total refunded)."""
        return ""

    def apply(self, request: HttpRequest, step: Step, form: forms.Form | None, token: str) -> str:
        """Act on one object through its service; returns how to name it in the success message.
        Raises ``DomainError`` (refused), ``ContextUnavailable`` or ``NotDone``. ``token`` is unique to
        the confirmation page: put it into idempotency keys."""
        raise NotImplementedError

    def offers(self, obj: M) -> bool:
        """Whether the object's page shows this action's button."""
        return True

    @classmethod
    def menu_label(cls) -> str:
        """The label, with "…" when a page comes before anything happens."""
        leads_to_a_page = cls.confirm or cls.form is not StaffAction.form
        return f"{cls.label} …" if leads_to_a_page else cls.label

    # --- the admin action ---
    @classmethod
    def admin_action(cls) -> Callable[[admin.ModelAdmin[M], HttpRequest, QuerySet[M]], HttpResponse | None]:
        """The function to list in ``ModelAdmin.actions``."""

        def action(
            model_admin: admin.ModelAdmin[M], request: HttpRequest, queryset: QuerySet[M]
        ) -> HttpResponse | None:
            return cls(model_admin).run(request, queryset)

        action.__name__ = cls.name
        action.__qualname__ = cls.name
        described = admin.action(description=cls.menu_label(), permissions=[cls.permission])
        return described(action)

    def run(self, request: HttpRequest, queryset: QuerySet[M]) -> HttpResponse | None:
        objects = self.objects(queryset)
        if len(objects) > self.max_objects:
            self._say(request, f"Select at most {self.max_objects} at a time; nothing was changed.", messages.ERROR)
            return None
        stage = request.POST.get(STAGE, "")
        sent = stage in (REVIEW, CONFIRM)
        form = self.form(request.POST if sent else None, objects)
        try:
            if form is not None and not (sent and form.is_valid()):
                return self._page(request, objects, form, self.plan(request, objects, None), confirming=False)
            steps = self.plan(request, objects, form)
        except ContextUnavailable as exc:
            self._say(request, f"{_unavailable(exc)}: what would happen cannot be shown, so nothing was changed.")
            return self._back(request)
        token = request.POST.get(TOKEN, "")
        if self.confirm:
            digest = _digest(steps, form)
            if stage != CONFIRM or request.POST.get(DIGEST) != digest or not _TOKEN_SHAPE.match(token):
                changed = stage == CONFIRM
                return self._page(request, objects, form, steps, confirming=True, digest=digest, changed=changed)
        else:
            token = uuid4().hex
        self._execute(request, steps, form, token)
        return self._back(request)

    # --- the kit's own parts ---
    def _execute(self, request: HttpRequest, steps: Sequence[Step], form: forms.Form | None, token: str) -> None:
        done: list[str] = []
        for step in steps:
            if step.refusal:
                self._say(request, f"{step.label} was not {self.done}: {step.refusal}")
                continue
            try:
                done.append(self.apply(request, step, form, token) or step.label)
            except NotDone as exc:
                self._say(request, f"{step.label}: {exc}")
            except DomainError as exc:
                self._say(request, f"{step.label} was not {self.done}: {refusal_text(exc)}")
            except ContextUnavailable as exc:
                self._say(request, f"{step.label} was not {self.done}: {_unavailable(exc)}; try again in a moment.")
        if done:
            self._say(request, f"{len(done)} {self.noun} {self.done}: {', '.join(done)}.", messages.SUCCESS)

    def _say(self, request: HttpRequest, text: str, level: int = messages.WARNING) -> None:
        self.model_admin.message_user(request, text, level)

    def _next(self, request: HttpRequest) -> str:
        wanted = request.POST.get(NEXT, "")
        safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}) and wanted.startswith("/")
        return wanted if safe else ""

    def _back(self, request: HttpRequest) -> HttpResponse | None:
        """To the object's page when the action ran from there, else (None) back to the changelist."""
        target = self._next(request)
        return HttpResponseRedirect(target) if target else None

    def _page(
        self,
        request: HttpRequest,
        objects: Sequence[M],
        form: forms.Form | None,
        steps: Sequence[Step],
        *,
        confirming: bool,
        digest: str = "",
        changed: bool = False,
    ) -> TemplateResponse:
        opts = self.model_admin.opts
        row_fields = {str(obj.pk): name for obj in objects if (name := self.row_field(obj))}
        head = [form[name] for name in form.fields if name not in row_fields.values()] if form is not None else []
        rows = [{"step": step, "input": _row_input(form, row_fields.get(str(step.obj.pk)))} for step in steps]
        acting = [step for step in steps if step.acts]
        next_url = self._next(request)
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": opts,
            "title": self.heading(objects),
            "intro": self.intro,
            "kit": self,
            "form": form,
            "head": head,
            "rows": rows,
            "has_inputs": bool(row_fields),
            "confirming": confirming,
            "changed": changed,
            "acting": acting,
            "left_alone": [step for step in steps if not step.acts],
            "summary": self.summary(acting) if confirming else "",
            "selected": [obj.pk for obj in objects],
            "action": self.name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "stage_field": STAGE,
            "stage": CONFIRM if confirming else (REVIEW if self.confirm else CONFIRM),
            "digest_field": DIGEST,
            "digest": digest,
            "token_field": TOKEN,
            "token": uuid4().hex,
            "next_field": NEXT,
            "next": next_url,
            "cancel_url": next_url or reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            "submit_label": self.submit_label if (confirming or not self.confirm) else "Review …",
            "media": self.model_admin.media + (form.media if form is not None else forms.Media()),
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)


def _row_input(form: forms.Form | None, name: str | None) -> forms.BoundField | None:
    return form[name] if form is not None and name else None


def _unavailable(exc: ContextUnavailable) -> str:
    return f"{exc.context} cannot answer right now"


def _digest(steps: Sequence[Step], form: forms.Form | None) -> str:
    """What the confirmation showed: every object's effect or refusal, and the input it came from."""
    shown = [[str(step.obj.pk), step.effect, step.refusal] for step in steps]
    values = {name: str(value) for name, value in sorted(form.cleaned_data.items())} if form is not None else {}
    return hashlib.sha256(json.dumps([shown, values]).encode()).hexdigest()


# --- the ModelAdmin side ---------------------------------------------------------------------------
class KitAdmin(admin.ModelAdmin[M]):
    """A ModelAdmin with the kit: list pages completed a page at a time (``complete_page``), and the
    object's page showing a button for each of its ``staff_actions`` that the object ``offers``."""

    staff_actions: ClassVar[Sequence[type[StaffAction[Any]]]] = ()
    change_form_template = CHANGE_FORM_TEMPLATE

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PageChangeList

    def complete_page(self, request: HttpRequest, rows: list[M]) -> None:
        """Add what one list page needs from other contexts, in one call per context."""

    def staff_buttons(self, request: HttpRequest, obj: M) -> list[dict[str, str]]:
        allowed = self.get_actions(request)
        return [
            {"name": cls.name, "label": cls.menu_label()}
            for cls in self.staff_actions
            if cls.name in allowed and cls(self).offers(obj)
        ]

    def render_change_form(  # noqa: PLR0917 (Django's signature)
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: M | None = None,
    ) -> HttpResponse:
        if obj is not None:
            opts = self.opts
            context["kit_buttons"] = self.staff_buttons(request, obj)
            context["kit_action_url"] = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            context["kit_next"] = request.path
            context["kit_next_field"] = NEXT
            context["action_checkbox_name"] = helpers.ACTION_CHECKBOX_NAME
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
