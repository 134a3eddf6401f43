"""Random sequences of everything buyers, agents, admins, the jobs and Telegram do, on SQLite
and PostgreSQL.

After every sequence: each event was answered and none raised; each key sits in at most one
order; every wallet balance is the sum of its entries and never negative; every charge is
applied or refunded; no refund is left pending (this refunder always reaches Telegram); and
the ledger holds: every transaction balances, escrow equals the holds it stands for, and only
orders awaiting stock wait in clearing (`ledger check`), through sales, refunds, bad keys,
replacements, settlements, deposits, payouts and wallet top-ups.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.action import AnswerButton, AnswerPreCheckout, SendInvoice
from handlers.context import ShopContext
from handlers.event import ButtonPress, Event, PaymentReceived, PreCheckout, TextMessage
from handlers.outbox import render_outbox
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import metadata
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.case import ReplacementRules
from store.domain.ledger import payable
from store.domain.order import HoldRules
from store.domain.outbox import OutboxReceipt
from store.domain.payment import TopupRules
from store.domain.refund import RefundRules
from store.domain.support import SupportRules
from store.services.books import check_books, settle_escrow
from store.services.outbox import claim_outbox, finish_outbox
from store.services.stock import import_card_keys
from store.services.supplier import add_supplier
from store.services.supplier_money import pay_deposit, record_payout
from store.services.wallet import credit_wallet
from tests.conftest import FakeClock
from tests.factories import (
    FakeRefunder,
    key_file,
    order_id_on,
    paid,
    person,
    pre_checkout,
    stocked_shop,
)
from tests.invariants import read_books

BUYERS = (1001, 1002, 1003)
COST = 4000
"""What acme's keys cost the shop (the house's record none)."""
AGENT = 900
_charges = itertools.count(1)
_keys = itertools.count(1)

buyer = st.sampled_from(BUYERS)
odd_text = st.one_of(
    st.text(max_size=50),
    st.sampled_from(
        ["人工", "怎么退款", "/start", "/orders", "/wallet", "/shop", "/cancel", "😀" * 300]
    ),
)
odd_data = st.one_of(
    st.text(min_size=1, max_size=64).filter(lambda d: len(d.encode()) <= 64),
    st.sampled_from(["keys:١", "order:99999", "refund:0", "badk:1:1", "agcase:1:refunded"]),
)
journey = st.one_of(  # a buy and its payment, so that sequences reach paid orders often
    st.tuples(
        st.just("buy_stars"), buyer, st.sampled_from([1, 2]), st.sampled_from(["right", "again"])
    ),
    st.tuples(st.just("buy_wallet"), buyer, st.sampled_from([1, 2])),
    st.tuples(st.just("buy_refund"), buyer),
    st.tuples(
        st.just("buy_report"),
        buyer,
        st.sampled_from([1, 2]),
        st.sampled_from(["redeemed", "invalid"]),
    ),
    st.tuples(st.just("agent_settles"), buyer, st.sampled_from(["replaced", "refunded"])),
)
step = st.one_of(
    journey,
    journey,
    st.tuples(st.just("buy"), buyer, st.sampled_from([1, 2])),
    st.tuples(st.just("stars"), buyer, st.sampled_from(["right", "wrong_amount", "again"])),
    st.tuples(st.just("wallet"), buyer),
    st.tuples(st.just("cancel"), buyer),
    st.tuples(st.just("reveal"), buyer),
    st.tuples(st.just("refund"), buyer),
    st.tuples(st.just("report"), buyer, st.sampled_from(["redeemed", "invalid"])),
    st.tuples(st.just("repeat_payment"), buyer),
    st.tuples(st.just("topup"), buyer),
    st.tuples(st.just("credit"), buyer),
    st.tuples(st.just("text"), buyer, odd_text),
    st.tuples(st.just("forged"), buyer, odd_data),
    st.tuples(st.just("agent"), st.sampled_from(["/duty on", "/next", "/close", "/duty off"])),
    st.tuples(st.just("decide"), st.sampled_from(["replaced", "refunded"])),
    st.tuples(st.just("agent_refund"), buyer),
    st.tuples(st.just("later"), st.sampled_from([1, 16, 60 * 25])),
    st.tuples(st.just("restock"), st.integers(1, 3), st.sampled_from(["house", "acme"])),
    st.tuples(st.just("deliver")),
    st.tuples(st.just("settle"), st.sampled_from([1, 10, 30])),
    st.tuples(st.just("payout")),
    st.tuples(st.just("deposit"), st.sampled_from([100, 5000])),
)


@dataclass
class Shop:
    ctx: ShopContext
    clock: FakeClock
    cipher: CardKeyCipher
    uow: UnitOfWorkFactory
    """The SQL unit of work behind `ctx.uow`, for the checks that read the tables."""
    orders: dict[int, list[int]] = field(default_factory=dict)
    last_payment: dict[int, PaymentReceived] = field(default_factory=dict)
    events: int = 0


def _press(user_id: int, data: str) -> ButtonPress:
    return ButtonPress(person(user_id), data, 7, f"cb{next(_charges)}")


def _answered(event: Event, actions: Sequence[object]) -> bool:
    if isinstance(event, ButtonPress):
        return any(isinstance(a, AnswerButton) for a in actions)
    if isinstance(event, PreCheckout):
        return len([a for a in actions if isinstance(a, AnswerPreCheckout)]) == 1
    if isinstance(event, TextMessage):
        return bool(actions)
    return True  # a payment: a repeat rightly says nothing


async def _send(shop: Shop, event: Event) -> list[object]:
    actions: list[object] = list(await dispatch(event, shop.ctx))
    shop.events += 1
    assert _answered(event, actions), (event, actions)
    return actions


def _latest(shop: Shop, user_id: int) -> int | None:
    found = shop.orders.get(user_id)
    return found[-1] if found else None


async def _act(shop: Shop, move: tuple[object, ...]) -> None:
    kind = move[0]
    clock, ctx = shop.clock, shop.ctx
    if kind == "buy_stars":
        await _act(shop, ("buy", move[1], move[2]))
        await _act(shop, ("stars", move[1], move[3]))
    elif kind == "buy_refund":
        await _act(shop, ("buy_stars", move[1], 1, "right"))
        await _act(shop, ("refund", move[1]))
    elif kind == "buy_report":
        await _act(shop, ("buy_stars", move[1], move[2], "right"))
        await _act(shop, ("reveal", move[1]))
        await _act(shop, ("report", move[1], move[3]))
    elif kind == "agent_settles":  # on duty, a decision on every open case, then a refund
        await _act(shop, ("agent", "/duty on"))
        await _act(shop, ("decide", move[2]))
        await _act(shop, ("agent_refund", move[1]))
    elif kind == "buy_wallet":
        await _act(shop, ("credit", move[1]))
        await _act(shop, ("buy", move[1], move[2]))
        await _act(shop, ("wallet", move[1]))
    elif kind == "buy":
        user_id, quantity = int(move[1]), int(move[2])  # type: ignore[call-overload]
        actions = await _send(shop, _press(user_id, f"buy:STEAM-50:{quantity}"))
        for action in actions:
            for row in getattr(action, "keyboard", None) or ():
                for button in row:
                    if button.data and button.data.startswith("paystars:"):
                        named = await order_id_on(button.data, shop.ctx.uow)
                        shop.orders.setdefault(user_id, []).append(named)
    elif kind == "stars":
        user_id, how = int(move[1]), str(move[2])  # type: ignore[call-overload]
        order_id = _latest(shop, user_id)
        if order_id is None:
            return
        actions = await _send(shop, _press(user_id, f"paystars:{order_id}"))
        invoice = next((a for a in actions if isinstance(a, SendInvoice)), None)
        if invoice is None:
            return
        verdict = await _send(shop, pre_checkout(invoice.payload, invoice.stars, user_id))
        amount = invoice.stars if how != "wrong_amount" else 1  # Telegram would never, but
        if verdict[0].ok or how == "again":  # type: ignore[attr-defined]
            payment = paid(invoice.payload, amount, f"ch-{next(_charges)}", user_id)
            shop.last_payment[user_id] = payment
            await _send(shop, payment)
    elif kind == "repeat_payment":
        if (repeat := shop.last_payment.get(int(move[1]))) is not None:  # type: ignore[call-overload]
            await _send(shop, repeat)
    elif kind in ("wallet", "cancel", "reveal", "refund"):
        user_id = int(move[1])  # type: ignore[call-overload]
        verb = {"wallet": "paywallet", "cancel": "cancel", "reveal": "keys", "refund": "refund"}
        if (order_id := _latest(shop, user_id)) is not None:
            await _send(shop, _press(user_id, f"{verb[str(kind)]}:{order_id}"))
    elif kind == "report":
        user_id, reason = int(move[1]), str(move[2])  # type: ignore[call-overload]
        if (order_id := _latest(shop, user_id)) is None:
            return
        async with ctx.uow().reading() as tx:
            sold = await tx.card_keys.sold_keys(order_id)
        key_id = sold[0][0] if sold else 1
        for data in (
            f"bad:{order_id}",
            f"badk:{order_id}:{key_id}",
            f"badr:{order_id}:{key_id}:{reason}",
            f"bads:{order_id}:{key_id}:{reason}",
        ):
            await _send(shop, _press(user_id, data))
    elif kind == "topup":
        user_id = int(move[1])  # type: ignore[call-overload]
        await _send(shop, paid(f"topup:{user_id}:50", 50, f"ch-{next(_charges)}", user_id))
    elif kind == "credit":
        user_id = int(move[1])  # type: ignore[call-overload]
        await credit_wallet(
            ctx.uow(),
            user_id=user_id,
            amount_minor=4800,
            reason="test",
            idempotency_key=f"k{next(_charges)}",
            now=clock.now(),
        )
    elif kind == "text":
        await _send(shop, TextMessage(person(int(move[1])), str(move[2]) or ".", next(_charges)))  # type: ignore[call-overload]
    elif kind == "forged":
        await _send(shop, _press(int(move[1]), str(move[2])))  # type: ignore[call-overload]
    elif kind == "agent":
        await _send(shop, TextMessage(person(AGENT), str(move[1]), next(_charges)))
    elif kind == "decide":
        async with ctx.uow().reading() as tx:
            cases = [c for u in BUYERS for c in await tx.cases.for_user(u, 5)]
        for case in cases:
            await _send(shop, _press(AGENT, f"agcase:{case.id}:{move[1]}"))
    elif kind == "agent_refund":
        if (order_id := _latest(shop, int(move[1]))) is not None:  # type: ignore[call-overload]
            await _send(shop, _press(AGENT, f"agref:{order_id}"))  # asks to confirm
            await _send(shop, _press(AGENT, f"agrefok:{order_id}:1"))
    elif kind == "later":
        clock.advance(minutes=int(move[1]))  # type: ignore[call-overload]
        from bot.scheduler import release_lapsed_reservations

        await release_lapsed_reservations(ctx)
    elif kind == "restock":
        batch = [f"RESTOCK-{next(_keys):06d}" for _ in range(int(move[1]))]  # type: ignore[call-overload]
        supplier_id = str(move[2]) if len(move) > 2 else "house"
        await import_card_keys(
            ctx.uow,
            sku="STEAM-50",
            parsed=key_file(*batch),
            source="t",
            cipher=shop.cipher,
            now=clock.now(),
            supplier_id=supplier_id,
            cost_minor=COST if supplier_id == "acme" else None,
        )
    elif kind == "settle":  # the settlement job, as if some days had passed
        later = clock.now() + timedelta(days=int(move[1]))  # type: ignore[call-overload]
        await settle_escrow(ctx.uow, now=later, rules=ctx.escrow)
    elif kind == "payout":
        async with ctx.uow().reading() as tx:
            owed = await tx.ledger.account_balance(payable("acme"))
        if owed > 0:
            await record_payout(
                ctx.uow,
                supplier_id="acme",
                amount_minor=owed,
                reference=f"tx-{next(_charges)}",
                actor="test",
                now=clock.now(),
            )
    elif kind == "deposit":
        await pay_deposit(
            ctx.uow,
            supplier_id="acme",
            amount_minor=int(move[1]),  # type: ignore[call-overload]
            reason="deposit",
            idempotency_key=f"d{next(_charges)}",
            actor="test",
            now=clock.now(),
        )
    elif kind == "deliver":
        for item in await claim_outbox(ctx.uow(), now=clock.now()):
            rendered = await render_outbox(item, ctx)
            receipt = OutboxReceipt(relayed=rendered.relayed)
            await finish_outbox(ctx.uow(), item=item, now=clock.now(), sent=True, receipt=receipt)


async def _fresh_shop(engine: AsyncEngine, cipher: CardKeyCipher, automatic: bool = True) -> Shop:
    async with engine.begin() as connection:  # an empty shop for each sequence
        for table in reversed(metadata.sorted_tables):
            if table.name not in ("suppliers", "supplier_events"):  # the house supplier stays
                await connection.execute(sql(f"DELETE FROM {table.name}"))
    clock = FakeClock()
    uow = UnitOfWorkFactory(engine)
    await stocked_shop(uow, cipher, clock, stock=4)
    async with uow().reading() as tx:
        known = await tx.suppliers.get("acme")
    if known is None:
        await add_supplier(
            uow,
            id="acme",
            name="Acme",
            public_name=None,
            contact="",
            public_key=None,
            actor="test",
            now=clock.now(),
        )
    ctx = ShopContext(
        uow=uow,
        clock=clock,
        cipher=cipher,
        refunder=FakeRefunder(),
        hold=HoldRules(minutes=15, max_open=3),
        topup=TopupRules(star_value_minor=10, allowed_stars=(50,)),
        refund=RefundRules(window_days=7),
        admin_ids=frozenset({42}),
        agent_ids=frozenset({AGENT}),
        support=SupportRules(capacity=2),
        replacement=ReplacementRules(enabled=automatic),
    )
    return Shop(ctx, clock, cipher, uow)


@settings(
    deadline=None,  # examples are counted by the profile (tests/conftest.py): 60, or `deep`
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moves=st.lists(step, min_size=5, max_size=40), automatic=st.booleans())
# The interleavings behind the defects run every time, besides the random ones:
@example(  # a case refunded to the wallet, then the whole order (paid back 14,400 for 9,600)
    moves=[("buy_report", 1001, 2, "invalid"), ("agent_settles", 1001, "refunded")],
    automatic=False,
)
@example(  # a reported key, the order refunded, then an agent's replacement
    moves=[
        ("buy_report", 1001, 1, "invalid"),
        ("agent", "/duty on"),
        ("agent_refund", 1001),
        ("decide", "replaced"),
    ],
    automatic=False,
)
@example(  # a second charge of a paid order, a repeated update, and a refund in between
    moves=[("buy_stars", 1002, 1, "again"), ("repeat_payment", 1002), ("refund", 1002)],
    automatic=True,
)
@example(  # a payment after the hold lapsed and the stock went to someone else
    moves=[
        ("buy", 1001, 2),
        ("later", 16),
        ("buy", 1002, 2),
        ("buy", 1003, 2),
        ("stars", 1001, "again"),
        ("restock", 2),
    ],
    automatic=True,
)
async def test_random_sequences_keep_the_books_balanced(
    engine: AsyncEngine, cipher: CardKeyCipher, moves: list[tuple[object, ...]], automatic: bool
) -> None:
    shop = await _fresh_shop(engine, cipher, automatic)
    for move in moves:
        await _act(shop, move)
    await _act(shop, ("deliver",))
    books = await read_books(shop.uow)
    assert books.breaches() == {}, moves
    assert await check_books(shop.uow()) == [], moves  # what `ledger check` reports
    async with shop.uow().reading() as tx:  # what the sequences reached, for the stats
        for name, query in (
            ("orders paid", "SELECT count(*) FROM orders WHERE paid_at IS NOT NULL"),
            ("refunds", "SELECT count(*) FROM refunds"),
            ("cases", "SELECT count(*) FROM cases"),
        ):
            found = (await tx.connection.execute(sql(query))).scalar_one()
            event(f"{name}: {'none' if not found else 'some'}")
    async with shop.ctx.uow().reading() as tx:
        for user_id in BUYERS:
            assert await tx.ledger.balance(user_id) >= 0
