"""Builders for catalog specs, key files, events, domain records and a stocked shop, shared by
every test."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from handlers.event import ButtonPress, PaymentReceived, Person, PreCheckout, TextMessage
from store.domain.errors import RefundFailed
from store.domain.model import Agent, Order, OrderStatus, PaymentMethod, Product
from store.domain.order import HoldRules
from store.domain.payment import TopupRules
from store.formats.catalog_file import CatalogSpec, CategorySpec, ProductSpec
from store.formats.key_file import ParsedKeyFile, parse_key_file
from store.services.catalog import load_catalog
from store.services.order import reserve_keys
from store.services.payment import confirm_payment
from store.services.ports import KeyCipher, NewUnitOfWork
from store.services.stock import import_card_keys
from tests.conftest import FakeClock

_ids = itertools.count(1)


def category(id: str = "game", **changes: object) -> CategorySpec:
    spec = CategorySpec(id=id, name_zh="游戏点卡", name_en="Game cards", position=0)
    return replace(spec, **changes)  # type: ignore[arg-type]


def product(sku: str = "STEAM-50", **changes: object) -> ProductSpec:
    spec = ProductSpec(
        sku=sku,
        category_id="game",
        name_zh="Steam 钱包 ¥50",
        name_en="Steam Wallet ¥50",
        description_zh="国区",
        description_en="China region",
        redeem_zh="打开 Steam 兑换",
        redeem_en="Redeem in Steam",
        price_minor=4800,
        price_stars=480,
        order_limit=10,
        low_stock_threshold=2,
        active=True,
        position=0,
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def catalog(
    *products: ProductSpec, categories: Iterable[CategorySpec] | None = None
) -> CatalogSpec:
    return CatalogSpec(
        categories=tuple(categories or [category()]), products=tuple(products or [product()])
    )


def key_file(*keys: str) -> ParsedKeyFile:
    return parse_key_file("keys.txt", "\n".join(keys).encode())


def keys(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{n:06d}" for n in range(count)]


async def stocked_shop(
    uow: NewUnitOfWork,
    cipher: KeyCipher,
    clock: FakeClock,
    *,
    sku: str = "STEAM-50",
    stock: int = 5,
    **product_changes: object,
) -> list[str]:
    """A shop with one product and `stock` keys; returns the keys."""
    await load_catalog(
        uow(),
        spec=catalog(product(sku, **product_changes)),
        star_value_minor=10,
        default_order_limit=10,
    )
    stocked = keys(sku, stock)
    if stocked:
        await import_card_keys(
            uow, sku=sku, parsed=key_file(*stocked), source="test", cipher=cipher, now=clock.now()
        )
    return stocked


class FakeRefunder:
    """Telegram's refundStarPayment, as a test needs it: it refunds and records (`ok`), refuses
    for good (`refuse`: RefundFailed), or cannot be reached (`unreachable`: ConnectionError)."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.refunded: list[tuple[int, str]] = []
        self.calls = 0

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        self.calls += 1
        if self.mode == "refuse":
            raise RefundFailed("CHARGE_NOT_FOUND")
        if self.mode == "unreachable":
            raise ConnectionError("Telegram is out of reach")
        if (user_id, charge_id) in self.refunded:
            return  # Telegram answers CHARGE_ALREADY_REFUNDED, which the port counts as done
        self.refunded.append((user_id, charge_id))


def person(user_id: int = 1001, language_code: str | None = "en", first_name: str = "Li") -> Person:
    return Person(
        user_id=user_id, chat_id=user_id, first_name=first_name, language_code=language_code
    )


def text(body: str, user_id: int = 1001, language_code: str | None = "en") -> TextMessage:
    return TextMessage(person(user_id, language_code), body, next(_ids))


def press(
    data: str,
    user_id: int = 1001,
    language_code: str | None = "en",
    message_id: int = 7,
    download: Callable[[str], Awaitable[bytes]] | None = None,
) -> ButtonPress:
    """A button pressed; `download` reads the chat's files by file_id, as the adapters do."""
    callback_id = f"cb{next(_ids)}"
    return ButtonPress(person(user_id, language_code), data, message_id, callback_id, download)


async def order_id_on(data: str, uow: NewUnitOfWork) -> int:
    """The internal id of the order a button names (by reference; an old button, by id), for
    tests that read rows or press an old button: the buyer's chat never shows it."""
    named = data.split(":")[1]
    if named.isdigit():
        return int(named)
    async with uow().reading() as tx:
        order = await tx.orders.by_reference(named)
    assert order is not None, f"no order {named!r}"
    return order.id


def pre_checkout(payload: str, amount: int, user_id: int = 1001) -> PreCheckout:
    return PreCheckout(person(user_id), f"pcq{next(_ids)}", payload, "XTR", amount)


def paid(
    payload: str, amount: int, charge_id: str | None = None, user_id: int = 1001
) -> PaymentReceived:
    return PaymentReceived(
        person(user_id), payload, "XTR", amount, charge_id or f"charge-{next(_ids)}"
    )


async def paid_order(
    new_uow: NewUnitOfWork,
    cipher: KeyCipher,
    clock: FakeClock,
    *,
    user_id: int = 1001,
    quantity: int = 1,
    stock: int = 5,
    charge_id: str = "charge-paid",
) -> Order:
    """A shop with `stock` keys of STEAM-50, and an order of `quantity` of them paid in Stars."""
    await stocked_shop(new_uow, cipher, clock, stock=stock)
    reservation = await reserve_keys(
        new_uow(),
        user_id=user_id,
        first_name="Li",
        sku="STEAM-50",
        quantity=quantity,
        now=clock.now(),
        rules=HoldRules(),
    )
    outcome = await confirm_payment(
        new_uow,
        user_id=user_id,
        payload=f"order:{reservation.order.id}",
        currency="XTR",
        amount=reservation.order.total_stars,
        charge_id=charge_id,
        now=clock.now(),
        rules=HoldRules(),
        topup=TopupRules(star_value_minor=10, allowed_stars=(50,)),
        refunder=FakeRefunder(),
    )
    assert outcome.order is not None and outcome.delivered
    return outcome.order


PAID_AT = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
"""When `order()`'s orders were paid, unless told otherwise."""


def order(status: OrderStatus = OrderStatus.PAID, **changes: object) -> Order:
    """A one-key Stars order of STEAM-50 (4800 minor, 480 Stars) paid at `PAID_AT`, unrevealed;
    an unpaid status comes without a payment."""
    paid = status not in (OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED, OrderStatus.CANCELLED)
    record = Order(
        id=1,
        user_id=1001,
        sku="STEAM-50",
        quantity=1,
        unit_price_minor=4800,
        total_minor=4800,
        total_stars=480,
        status=status,
        payment_method=PaymentMethod.STARS if paid else None,
        created_at=PAID_AT - timedelta(minutes=1),
        expires_at=PAID_AT + timedelta(minutes=14),
        paid_at=PAID_AT if paid else None,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def listed_product(**changes: object) -> Product:
    """STEAM-50 as the catalog shows it: ten keys at most per order, five in stock."""
    record = Product(
        sku="STEAM-50",
        category_id="game",
        name_zh="Steam 钱包 ¥50",
        name_en="Steam Wallet ¥50",
        description_zh="国区",
        description_en="China region",
        redeem_zh="打开 Steam 兑换",
        redeem_en="Redeem in Steam",
        price_minor=4800,
        price_stars=480,
        order_limit=10,
        in_stock=5,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def agent(user_id: int = 2001, **changes: object) -> Agent:
    """An agent on duty with room for three tickets, holding none, never given one."""
    record = Agent(
        user_id=user_id, display_name="Mei", on_duty=True, capacity=3, active_ticket_id=None
    )
    return replace(record, **changes)  # type: ignore[arg-type]
