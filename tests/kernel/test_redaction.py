"""Secrets are recognised by shape and replaced before anything displays or logs them; everything
else passes unchanged."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import signing

from shop.kernel.redaction import REDACTED, redact, redact_data

JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "secret_text",
    [
        "https://shop.example/account/reset-password/?uid=Mw&token=dj3h4g-c2dfbcb931553f79cabb773e2b2359b5",
        "reset link: /reset/Mw/dj3h4g-c2dfbcb931553f79cabb773e2b2359b5/",
        f"/orders/status/{signing.TimestampSigner(salt='x').sign_object({'o': 1})}/",
        f"Authorization: Bearer {JWT}",
        f"token {JWT} in a log line",
        "client_secret=pi_3abc_secret_XYZ123",
        "https://example.com/cb?secret=hunter2&x=1",
    ],
)
def test_a_secret_never_survives(secret_text: str) -> None:
    redacted = redact(secret_text)
    assert REDACTED in redacted
    for piece in ("c2dfbcb931553f79cabb773e2b2359b5", JWT, "XYZ123", "hunter2"):
        assert piece not in redacted


def test_a_real_reset_token_has_the_recognised_shape() -> None:
    class User:
        pk = 1
        password = "x"
        last_login = None
        email = "a@example.com"

        def get_email_field_name(self) -> str:
            return "email"

    token = default_token_generator.make_token(User())  # type: ignore[arg-type]
    assert redact(f"?token={token}") == f"?token={REDACTED}"
    assert token not in redact(f"/reset/Mw/{token}/")


@pytest.mark.parametrize(
    "plain",
    [
        "Order SO-R3WR-155C paid: 115.18 EUR",
        "sku DEMO-SIERRA-MERINO-CARDIGAN-0 x 2",
        "2026-12-05T03:45:32.437934Z",
        "https://shop.example/orders/",
    ],
)
def test_ordinary_text_is_left_alone(plain: str) -> None:
    assert redact(plain) == plain


def test_nested_data_is_redacted_everywhere_and_keeps_its_shape() -> None:
    data = {"a": [f"Bearer {JWT}", 3, None], "b": {"c": ("ok",)}}
    assert redact_data(data) == {"a": [f"Bearer {REDACTED}", 3, None], "b": {"c": ["ok"]}}
