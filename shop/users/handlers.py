"""The users context's own follow-up work, run by its worker off the request."""

from __future__ import annotations

from shop import registry
from shop.users import api, services


@registry.subscriber(api.PasswordResetAsked)
def send_password_reset(event: api.PasswordResetAsked) -> None:
    services.send_password_reset(email=event.email)
