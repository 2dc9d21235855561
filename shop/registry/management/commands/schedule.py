"""``manage.py schedule``: the periodic jobs this configuration schedules, how often, and who runs them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from shop.registry import scheduler


class Command(BaseCommand):
    help = "List the periodic jobs (CELERY_BEAT_SCHEDULE), how often each runs, and what runs them."

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = scheduler.jobs_from(settings.CELERY_BEAT_SCHEDULE)
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            runner = "celery beat (run `celery -A shop beat` once per deployment)"
        elif settings.SHOP_EMBEDDED_SCHEDULER:
            runner = "the web server's own scheduler thread (no broker; SHOP_EMBEDDED_SCHEDULER=off turns it off)"
        else:
            runner = "NOTHING: no broker and SHOP_EMBEDDED_SCHEDULER is off"
        self.stdout.write(f"Periodic jobs, run by {runner}:")
        width = max((len(job.name) for job in jobs), default=0)
        for job in jobs:
            self.stdout.write(f"  {job.name:<{width}}  {job.every:<14}  {job.task}")
