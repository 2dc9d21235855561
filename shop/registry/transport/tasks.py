"""Celery task of the transport: forget the internal-call nonces whose signatures have expired."""

from __future__ import annotations

from celery import shared_task

from shop.registry.router import alias_for_context, context_aliases
from shop.registry.transport import replay


@shared_task(name="shop.registry.purge_internal_nonces", acks_late=True)
def purge_internal_nonces(context: str | None = None) -> int:
    """Forget internal-call nonces past their signatures' window, on ``context``'s database (beat
    sends one per database) or on every database this process has."""
    aliases = [alias_for_context(context)] if context else context_aliases()
    return sum(replay.purge(alias=alias) for alias in aliases)
