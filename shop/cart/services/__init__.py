"""Use cases of the cart, and ``CartService``, the in-process ``CartAPI``.

Every write runs in one cart-database transaction that first bumps the cart's ``version`` with an
``UPDATE``: that statement takes the cart's row lock, so two devices writing one cart queue up
instead of losing a line, and limits (lines per cart, quantity per line) are checked against what
is really there. The catalog is asked once per call, before the transaction, for every SKU the
response needs: no network call ever runs while a row lock is held.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import ClassVar

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from shop import registry
from shop.cart import api, selectors
from shop.cart.models import Cart, CartLine
from shop.catalog.api import CatalogAPI, InactiveProduct, UnknownSku, Variant

MAX_SKU_CHARS = 64


def _max_quantity() -> int:
    return int(settings.SHOP_CART_MAX_QUANTITY)


def _max_lines() -> int:
    return int(settings.SHOP_CART_MAX_LINES)


def _check_owner(owner: api.Owner, *, may_be_new: bool = False) -> None:
    if owner.user_id is not None and owner.guest_token is not None:
        raise api.InvalidOwner("Name the customer or the guest token, not both.")
    if owner.user_id is None and not owner.guest_token and not may_be_new:
        raise api.InvalidOwner("Name the customer or the guest token.")


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= _max_quantity():
        raise api.QuantityOutOfRange(
            f"A line holds between 1 and {_max_quantity()} of an item.", minimum=1, maximum=_max_quantity()
        )


def _check_sku(sku: str) -> str:
    sku = sku.strip() if isinstance(sku, str) else ""
    if not sku or len(sku) > MAX_SKU_CHARS:
        raise UnknownSku(f"No SKU {sku[:MAX_SKU_CHARS]!r} in the catalog.", skus=[sku[:MAX_SKU_CHARS]])
    return sku


def _variants(skus: Sequence[str]) -> dict[str, Variant]:
    """One catalog call for all the SKUs (none for an empty cart)."""
    wanted = list(dict.fromkeys(skus))
    if not wanted:
        return {}
    return {v.sku: v for v in registry.get(CatalogAPI).get_variants(skus=wanted)}


def _render(
    owner: api.Owner,
    variants: dict[str, Variant],
    *,
    extra_warnings: Sequence[api.CartWarning] = (),
    guest_token: str | None = None,
) -> api.Cart:
    """The cart as committed. ``variants`` were read before the write; a SKU another device added
    meanwhile is fetched then (rare), so the response is never missing a line."""
    cart = selectors.cart_with_lines(owner)
    if cart is None:
        return selectors.empty_cart(owner)
    lines = selectors.lines_of(cart)
    missing = [line.sku for line in lines if line.sku not in variants]
    if missing:
        variants = {**variants, **_variants(missing)}
    return selectors.to_cart_dto(cart, lines, variants, extra_warnings=extra_warnings, guest_token=guest_token)


def _lock(cart: Cart) -> None:
    """Bump the version and take the row lock (held to the end of the transaction)."""
    Cart.objects.filter(pk=cart.pk).update(version=F("version") + 1, updated_at=timezone.now())


def _locked_cart(owner: api.Owner, *, create: bool) -> Cart | None:
    """The owner's cart, locked and version-bumped, inside the caller's transaction."""
    cart: Cart | None
    if owner.user_id is not None and create:
        cart, _ = Cart.objects.get_or_create(user_id=owner.user_id)
    else:
        cart = selectors.carts_of(owner).first()
        if cart is None:
            return None
    _lock(cart)
    return cart


def _cart_missing(owner: api.Owner) -> api.CartNotFound:
    return api.CartNotFound("This cart token names no cart (expired or merged).")


# --- use cases ----------------------------------------------------------------------------------


def get_cart(*, owner: api.Owner) -> api.Cart:
    _check_owner(owner)
    cart = selectors.cart_with_lines(owner)
    if cart is None:
        if owner.guest_token:
            raise _cart_missing(owner)
        return selectors.empty_cart(owner)
    lines = selectors.lines_of(cart)
    return selectors.to_cart_dto(cart, lines, _variants([line.sku for line in lines]))


def add_line(*, owner: api.Owner, sku: str, quantity: int) -> api.Cart:
    """Add to a line (or open it); ``Owner()`` opens a guest cart whose token the result carries."""
    _check_owner(owner, may_be_new=True)
    sku = _check_sku(sku)
    _check_quantity(quantity)
    existing = selectors.cart_with_lines(owner) if (owner.user_id is not None or owner.guest_token) else None
    if existing is None and owner.guest_token:
        raise _cart_missing(owner)
    known = [line.sku for line in selectors.lines_of(existing)] if existing else []
    variants = _variants([*known, sku])
    variant = variants.get(sku)
    if variant is None:
        raise UnknownSku(f"No SKU {sku!r} in the catalog.", skus=[sku])
    if not variant.is_active:
        raise InactiveProduct(f"{variant.product_name} is no longer sold.", skus=[sku])

    new_token = None
    with registry.atomic("cart"):
        if owner.user_id is None and not owner.guest_token:
            new_token = secrets.token_urlsafe(32)
            cart = Cart.objects.create(token_hash=selectors.hash_token(new_token), version=1)
            owner = api.Owner(guest_token=new_token)
        else:
            locked = _locked_cart(owner, create=True)
            if locked is None:
                raise _cart_missing(owner)
            cart = locked
        line = CartLine.objects.filter(cart=cart, sku=sku).first()
        if line is None:
            if CartLine.objects.filter(cart=cart).count() >= _max_lines():
                raise api.CartFull(f"A cart holds at most {_max_lines()} different items.", max_lines=_max_lines())
            CartLine.objects.create(
                cart=cart,
                sku=sku,
                quantity=quantity,
                product_name=variant.product_name[:200],
                price_when_added_amount=variant.price.amount,
                currency=variant.price.currency,
            )
        else:
            if line.quantity + quantity > _max_quantity():
                raise api.QuantityOutOfRange(
                    f"The cart already holds {line.quantity}; a line holds at most {_max_quantity()}.",
                    minimum=1,
                    maximum=_max_quantity(),
                    in_cart=line.quantity,
                )
            CartLine.objects.filter(pk=line.pk).update(
                quantity=F("quantity") + quantity,
                product_name=variant.product_name[:200],
                price_when_added_amount=variant.price.amount,
                currency=variant.price.currency,
                updated_at=timezone.now(),
            )
    return _render(owner, variants, guest_token=new_token)


def set_quantity(*, owner: api.Owner, sku: str, quantity: int) -> api.Cart:
    _check_owner(owner)
    _check_quantity(quantity)
    existing = selectors.cart_with_lines(owner)
    if existing is None and owner.guest_token:
        raise _cart_missing(owner)
    variants = _variants([line.sku for line in selectors.lines_of(existing)] if existing else [])
    with registry.atomic("cart"):
        cart = _locked_cart(owner, create=False)
        if cart is None:
            if owner.guest_token:
                raise _cart_missing(owner)
            raise api.CartLineNotFound(f"{sku!r} is not in the cart.", sku=sku)
        updated = CartLine.objects.filter(cart=cart, sku=sku).update(quantity=quantity, updated_at=timezone.now())
        if not updated:
            raise api.CartLineNotFound(f"{sku!r} is not in the cart.", sku=sku)
    return _render(owner, variants)


def remove_line(*, owner: api.Owner, sku: str) -> api.Cart:
    _check_owner(owner)
    existing = selectors.cart_with_lines(owner)
    if existing is None:
        if owner.guest_token:
            raise _cart_missing(owner)
        return selectors.empty_cart(owner)
    variants = _variants([line.sku for line in selectors.lines_of(existing) if line.sku != sku])
    with registry.atomic("cart"):
        cart = selectors.carts_of(owner).select_for_update().first()
        if cart is None:
            raise _cart_missing(owner)
        deleted, _ = CartLine.objects.filter(cart=cart, sku=sku).delete()
        if deleted:
            _lock(cart)
    return _render(owner, variants)


def clear(*, owner: api.Owner, version: int | None = None) -> api.Cart:
    _check_owner(owner)
    with registry.atomic("cart"):
        cart = selectors.carts_of(owner).select_for_update().first()
        if cart is None:
            if owner.guest_token:
                raise _cart_missing(owner)
            return selectors.empty_cart(owner)
        if CartLine.objects.filter(cart=cart).exists():
            if version is not None and cart.version != version:
                raise api.CartChanged(
                    f"The cart is at version {cart.version}, not {version}.", expected=version, actual=cart.version
                )
            CartLine.objects.filter(cart=cart).delete()
            Cart.objects.filter(pk=cart.pk).update(voucher_codes=[])  # used by the order that emptied it
            _lock(cart)
    return _render(owner, {})


def merge(*, user_id: int, guest_token: str) -> api.Cart:
    """Guest lines into the customer's cart, in one transaction; the guest cart is deleted, so its
    token names nothing afterwards."""
    guest_owner = api.Owner(guest_token=guest_token)
    customer = api.Owner(user_id=user_id)
    _check_owner(guest_owner)
    guest_preview = selectors.cart_with_lines(guest_owner)
    if guest_preview is None:
        raise _cart_missing(guest_owner)
    customer_preview = selectors.cart_with_lines(customer)
    skus = [line.sku for line in selectors.lines_of(guest_preview)]
    if customer_preview is not None:
        skus += [line.sku for line in selectors.lines_of(customer_preview)]
    variants = _variants(skus)
    not_merged: list[api.CartWarning] = []
    with registry.atomic("cart"):
        guest = selectors.carts_of(guest_owner).select_for_update().first()
        if guest is None:  # merged or expired since the preview
            raise _cart_missing(guest_owner)
        cart = _locked_cart(customer, create=True)
        assert cart is not None  # create=True
        mine = {line.sku: line for line in CartLine.objects.filter(cart=cart)}
        for line in CartLine.objects.filter(cart=guest).order_by("added_at", "id"):
            held = mine.get(line.sku)
            if held is not None:
                CartLine.objects.filter(pk=held.pk).update(
                    quantity=min(held.quantity + line.quantity, _max_quantity()), updated_at=timezone.now()
                )
            elif len(mine) < _max_lines():
                mine[line.sku] = CartLine.objects.create(
                    cart=cart,
                    sku=line.sku,
                    quantity=line.quantity,
                    product_name=line.product_name,
                    price_when_added_amount=line.price_when_added_amount,
                    currency=line.currency,
                )
            else:
                not_merged.append(
                    api.CartWarning(
                        code="not_merged",
                        sku=line.sku,
                        detail=f"{line.product_name or line.sku} did not fit (at most {_max_lines()} items).",
                    )
                )
        guest.delete()
    return _render(customer, variants, extra_warnings=not_merged)


def delete_expired_guest_carts(*, limit: int = 1000) -> int:
    """Delete one batch of guest carts past their lifetime; returns how many went."""
    ids = list(
        Cart.objects.filter(user_id__isnull=True, updated_at__lt=selectors.guest_cutoff())
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    with registry.atomic("cart"):  # re-checked: a cart touched since the read stays
        _, per_model = Cart.objects.filter(pk__in=ids, updated_at__lt=selectors.guest_cutoff()).delete()
    return per_model.get(Cart._meta.label, 0)


class CartService:
    """In-process implementation of ``api.CartAPI``."""

    context: ClassVar[str] = api.CartAPI.context

    def get_cart(self, *, owner: api.Owner) -> api.Cart:
        return get_cart(owner=owner)

    def add_line(self, *, owner: api.Owner, sku: str, quantity: int) -> api.Cart:
        return add_line(owner=owner, sku=sku, quantity=quantity)

    def set_quantity(self, *, owner: api.Owner, sku: str, quantity: int) -> api.Cart:
        return set_quantity(owner=owner, sku=sku, quantity=quantity)

    def remove_line(self, *, owner: api.Owner, sku: str) -> api.Cart:
        return remove_line(owner=owner, sku=sku)

    def clear(self, *, owner: api.Owner, version: int | None = None) -> api.Cart:
        return clear(owner=owner, version=version)

    def merge(self, *, user_id: int, guest_token: str) -> api.Cart:
        return merge(user_id=user_id, guest_token=guest_token)
