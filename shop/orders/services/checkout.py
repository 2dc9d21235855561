"""Checkout: the saga from cart to order, with no transaction spanning two contexts.

1. replay: the customer's ``Idempotency-Key`` already placed an order → that order (same body) or
   ``IdempotencyKeyReused`` (different body), the rule of ``services.idempotency``;
2. read the cart (and its version) and the shipping address, and have pricing quote the cart's lines
   for that address and the chosen shipping method (``ShippingMethodUnavailable`` 409, ``TaxUnavailable``
   503: nothing is reserved or written); the order keeps that quote, line by line;
3. reserve every line in the catalog, all or nothing, under a reservation id derived from the new
   order's number;
3b. hold a use of each applied voucher code for the order (pricing, all or none, limits decided there);
4. one orders transaction: the order (unique per customer + key), its lines, its first history
   entry and ``OrderPlaced`` in the outbox;
5. clear the cart if it is still the version read in 2 (a line added meanwhile stays in the cart).

Any failure in 3b or 4 releases the reservation of 3 and the voucher uses of 3b (compensation). A
concurrent duplicate loses the unique index in 4, releases its own reservation and uses and answers
with the winner's order.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import IntegrityError

from shop import registry
from shop.cart.api import Cart, CartAPI, CartChanged, Owner
from shop.catalog.api import CatalogAPI, Line
from shop.kernel import ContextUnavailable, Money
from shop.orders import api, selectors
from shop.orders.models import Order, OrderLine, OrderStatusChange
from shop.orders.services import idempotency
from shop.orders.services.lifecycle import payment_due_by
from shop.pricing.api import Destination, PricingAPI, Quote, ShippingMethodUnavailable, VoucherUse
from shop.pricing.api import Line as PricedLine
from shop.users.api import UsersAPI

log = logging.getLogger(__name__)

RESERVATION_NAMESPACE = uuid.UUID("6f1d7c52-3b8e-4d59-9a51-4c1e0f6b2a90")
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
# The stock hold outlives the payment window, so the expiry task (not the catalog's own expiry)
# is what releases an unpaid order's stock, with the order cancelled in the same move.
HOLD_MARGIN_S = 600


@dataclass(frozen=True, kw_only=True, slots=True)
class Placed:
    order: api.Order
    created: bool  # False: a replay of an earlier request with the same key


def new_number() -> str:
    """``SO-7K3Q-9XW2``: easy to read out on the phone, 40 random bits, never sequential."""
    chars = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"SO-{chars[:4]}-{chars[4:]}"


def reservation_id_for(number: str) -> uuid.UUID:
    return uuid.uuid5(RESERVATION_NAMESPACE, number)


def _replay(order: Order, request_fingerprint: str) -> Placed:
    if order.request_fingerprint != request_fingerprint:
        raise api.IdempotencyKeyReused(order_number=order.number)
    return Placed(order=selectors.to_order_dto(order), created=False)


def _address(*, customer_id: int, address: api.ShippingAddress | None, address_id: int | None) -> api.ShippingAddress:
    if address is not None:
        return address
    if address_id is None:
        raise api.ShippingAddressRequired()
    book = registry.get(UsersAPI).get_address(user_id=customer_id, address_id=address_id)
    return api.ShippingAddress(
        full_name=book.full_name,
        line1=book.line1,
        line2=book.line2,
        city=book.city,
        postal_code=book.postal_code,
        region=book.region,
        country=book.country,
        phone=book.phone,
    )


def _checkable(cart: Cart) -> None:
    if not cart.lines:
        raise api.CartEmpty()
    unsold = [line.sku for line in cart.lines if not line.is_sold or line.unit_price is None]
    if unsold:
        raise api.ItemsUnavailable(skus=unsold)


def quote_for(*, cart: Cart, ship_to: api.ShippingAddress, shipping_method: str | None, customer_id: int) -> Quote:
    """Pricing's quote of the cart's lines for the address; an order always ships, so a destination no
    method reaches is refused like an unavailable method (with ``available`` empty)."""
    quote = registry.get(PricingAPI).quote(
        lines=[PricedLine(sku=line.sku, quantity=line.quantity) for line in cart.lines],
        destination=Destination(country=ship_to.country, postal_code=ship_to.postal_code),
        shipping_method=shipping_method or None,
        customer_id=customer_id,
        voucher_codes=cart.voucher_codes,
        first_order=not selectors.has_paid_order(customer_id=customer_id) if cart.voucher_codes else None,
    )
    if quote.shipping is None:
        raise ShippingMethodUnavailable(
            f"No shipping method delivers to {ship_to.country}.", shipping_method=shipping_method or "", available=[]
        )
    return quote


def _order_lines(order: Order, cart: Cart, quote: Quote) -> list[OrderLine]:
    names = {line.sku: line for line in cart.lines}
    return [
        OrderLine(
            order=order,
            sku=line.sku,
            product_name=names[line.sku].product_name[:200],
            variant_name=names[line.sku].variant_name[:200],
            unit_price_amount=line.unit_price.amount,
            quantity=line.quantity,
            line_total_amount=line.subtotal.amount,
            tax_class=line.tax_class,
            tax_rate=line.tax_rate,
            discount_amount=line.discount.amount,
            discounts=[{"source": d.source, "label": d.label, "amount": str(d.amount.amount)} for d in line.discounts],
            net_amount=line.net.amount,
            tax_amount=line.tax.amount,
            total_amount=line.total.amount,
        )
        for line in quote.lines
    ]


def _create_order(
    *,
    customer_id: int,
    key: str,
    request_fingerprint: str,
    number: str,
    cart: Cart,
    quote: Quote,
    ship_to: api.ShippingAddress,
) -> Order:
    shipping = quote.shipping
    assert shipping is not None  # quote_for refuses a quote without shipping
    due = payment_due_by()
    order = Order.objects.create(
        number=number,
        customer_id=customer_id,
        status=api.PENDING_PAYMENT,
        currency=quote.currency,
        subtotal_amount=quote.subtotal.amount,
        shipping_amount=quote.shipping_price.amount,
        tax_amount=quote.tax.amount,
        total_amount=quote.total.amount,
        prices_include_tax=quote.prices_include_tax,
        discount_amount=quote.discount.amount,
        shipping_method=shipping.method,
        shipping_method_name=shipping.name[:100],
        shipping_tax_rate=shipping.tax_rate,
        shipping_tax_amount=shipping.tax.amount,
        tax_breakdown=[
            {"rate": str(row.rate), "net": str(row.net.amount), "tax": str(row.tax.amount)}
            for row in quote.tax_breakdown
        ],
        tax_source=quote.tax_source[:40],
        voucher_codes=[v.code for v in quote.vouchers if v.discount.amount > 0],
        shipping_address=asdict(ship_to),
        idempotency_key=key,
        request_fingerprint=request_fingerprint,
        reservation_id=reservation_id_for(number),
        payment_due_by=due,
    )
    OrderLine.objects.bulk_create(_order_lines(order, cart, quote))
    OrderStatusChange.objects.create(
        order=order, from_status="", to_status=api.PENDING_PAYMENT, actor=api.ActorKind.CUSTOMER, actor_id=customer_id
    )
    registry.publish(
        api.OrderPlaced(
            order_id=order.pk,
            number=number,
            customer_id=customer_id,
            total=quote.total,
            reservation_id=order.reservation_id,
            payment_due_by=due,
        )
    )
    return order


def _release_quietly(reservation_id: uuid.UUID, *, number: str = "") -> None:
    """Compensation: give back the stock (and the voucher uses held under ``number``)."""
    try:
        registry.get(CatalogAPI).release(reservation_id=reservation_id)
    except Exception:  # the hold expires on its own; the original error is what the caller must see
        log.warning("could not release reservation %s; it will expire", reservation_id, exc_info=True)
    if number:
        try:
            registry.get(PricingAPI).release_vouchers(order_reference=number)
        except Exception:  # nothing of the order exists: staff see the use in the voucher's report
            log.warning("could not give back the vouchers held for %s", number, exc_info=True)


def _hold_vouchers(*, quote: Quote, customer_id: int, number: str) -> None:
    """Hold one use of each applied code for the order, all or none (pricing decides under its locks)."""
    uses = [VoucherUse(code=v.code, discount=v.discount) for v in quote.vouchers if v.discount.amount > 0]
    if uses:
        registry.get(PricingAPI).redeem_vouchers(customer_id=customer_id, order_reference=number, uses=uses)


def checkout(
    *,
    customer_id: int,
    idempotency_key: str,
    request_fingerprint: str,
    shipping_address: api.ShippingAddress | None = None,
    address_id: int | None = None,
    shipping_method: str | None = None,
    expected_total: Money | None = None,
) -> Placed:
    """Place the customer's cart as an order (the saga above). ``shipping_method`` is a method's code
    (none: the cheapest that ships there); ``expected_total``, when the client sends the total it showed,
    must be what the order costs now, else ``QuoteChanged`` and nothing happens (never a silent change)."""
    key = idempotency.check_key(idempotency_key)
    earlier = selectors.order_by_key(customer_id=customer_id, idempotency_key=key)
    if earlier is not None:
        return _replay(earlier, request_fingerprint)

    ship_to = _address(customer_id=customer_id, address=shipping_address, address_id=address_id)
    owner = Owner(user_id=customer_id)
    cart = registry.get(CartAPI).get_cart(owner=owner)
    _checkable(cart)
    quote = quote_for(cart=cart, ship_to=ship_to, shipping_method=shipping_method, customer_id=customer_id)
    if expected_total is not None and expected_total != quote.total:
        raise api.QuoteChanged(expected_total=str(expected_total.amount), total=str(quote.total.amount))

    number = new_number()
    reservation_id = reservation_id_for(number)
    lines = [Line(sku=line.sku, quantity=line.quantity) for line in cart.lines]
    ttl_s = settings.SHOP_ORDER_PAYMENT_TTL_S + HOLD_MARGIN_S
    try:
        registry.get(CatalogAPI).reserve(reservation_id=reservation_id, lines=lines, ttl_s=ttl_s)
    except ContextUnavailable:
        _release_quietly(reservation_id)  # the call may have reserved before the answer was lost
        raise
    try:
        _hold_vouchers(quote=quote, customer_id=customer_id, number=number)
    except BaseException:  # exhausted meanwhile, or pricing unreachable (it may have held: give back)
        _release_quietly(reservation_id, number=number)
        raise

    try:
        with registry.atomic("orders"):
            order = _create_order(
                customer_id=customer_id,
                key=key,
                request_fingerprint=request_fingerprint,
                number=number,
                cart=cart,
                quote=quote,
                ship_to=ship_to,
            )
    except IntegrityError:
        _release_quietly(reservation_id, number=number)
        winner = selectors.order_by_key(customer_id=customer_id, idempotency_key=key)
        if winner is None:  # not the key (a number collision, 1 in 2**40): the client may simply retry
            raise api.IdempotencyKeyInUse() from None
        return _replay(winner, request_fingerprint)
    except BaseException:
        _release_quietly(reservation_id, number=number)
        raise

    try:
        registry.get(CartAPI).clear(owner=owner, version=cart.version)
    except CartChanged:
        log.info("cart of customer %s changed during checkout of %s; left as it is", customer_id, number)
    except ContextUnavailable:
        log.warning("cart unavailable after checkout of %s; the customer's cart still holds the items", number)
    placed = selectors.order_by_id(order_id=order.pk)
    assert placed is not None
    return Placed(order=selectors.to_order_dto(placed), created=True)
