"""Refunds: never more than was paid, resumed after a crash, never reselling a reported key."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import card_keys
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.case import ReplacementRules
from store.domain.errors import RefundNotAllowed
from store.domain.model import CaseReason, CaseStatus, KeyStatus, OrderStatus, RefundStatus
from store.domain.order import HoldRules
from store.domain.payment import TopupRules
from store.domain.refund import RefundRules
from store.domain.support import SupportRules
from store.services.agent_duty import set_duty
from store.services.case import CaseClosed, decide_case, report_bad_key
from store.services.order import reserve_keys
from store.services.payment import confirm_payment
from store.services.refund import (
    RefundOutcome,
    StarRefunder,
    refund_order,
    refund_order_for_agent,
    resume_refunds,
)
from store.services.reveal import reveal_keys
from store.services.wallet import show_wallet
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, stocked_shop
from tests.invariants import read_books

HOLD = HoldRules()
TOPUP = TopupRules(star_value_minor=10, allowed_stars=(50,))
NO_AUTOMATIC = ReplacementRules(enabled=False)
AGENT = 900


async def _paid(
    uow: UnitOfWorkFactory, clock: FakeClock, *, quantity: int = 1, buyer: int = 1
) -> int:
    order = (
        await reserve_keys(
            uow(),
            user_id=buyer,
            first_name="",
            sku="STEAM-50",
            quantity=quantity,
            now=clock.now(),
            rules=HOLD,
        )
    ).order
    await confirm_payment(
        uow,
        user_id=buyer,
        payload=f"order:{order.id}",
        currency="XTR",
        amount=order.total_stars,
        charge_id=f"ch-{order.id}",
        now=clock.now(),
        rules=HOLD,
        topup=TOPUP,
        refunder=FakeRefunder(),
    )
    return order.id


async def _report(
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    order_id: int,
    rules: ReplacementRules = NO_AUTOMATIC,
) -> tuple[int, int]:
    """The buyer looks at the keys, reports the first; an agent holds the conversation.
    Returns (case id, key id)."""
    await reveal_keys(uow(), user_id=1, order_id=order_id, cipher=cipher, now=clock.now())
    async with uow() as tx:
        key_id = (await tx.card_keys.sold_keys(order_id))[0][0]
    outcome = await report_bad_key(
        uow(),
        user_id=1,
        first_name="",
        order_id=order_id,
        key_id=key_id,
        reason=CaseReason.INVALID,
        screenshot=None,
        now=clock.now(),
        rules=rules,
        cipher=cipher,
    )
    await set_duty(
        uow(), agent_id=AGENT, display_name="Mei", on=True, now=clock.now(), rules=SupportRules()
    )
    return outcome.case.id, key_id


async def _self_refund(
    uow: UnitOfWorkFactory, clock: FakeClock, order_id: int, refunder: StarRefunder
) -> RefundOutcome:
    """Buyer 1 presses Refund on an order of theirs."""
    return await refund_order(
        uow, user_id=1, order_id=order_id, now=clock.now(), refunder=refunder, rules=RefundRules()
    )


async def _order_status(uow: UnitOfWorkFactory, order_id: int) -> OrderStatus:
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None
    return order.status


async def test_a_case_refunded_to_the_wallet_then_the_whole_order_never_pays_back_more_than_paid(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=4)
    order_id = await _paid(uow, clock, quantity=2)  # 2 × ¥48 = ¥96, paid in Stars
    case_id, _ = await _report(uow, cipher, clock, order_id)
    refunder = FakeRefunder()
    await decide_case(
        uow,
        agent_id=AGENT,
        case_id=case_id,
        decision=CaseStatus.REFUNDED,
        note="confirmed bad",
        now=clock.now(),
        refunder=refunder,
        cipher=cipher,
    )
    assert (await show_wallet(uow(), user_id=1)).balance_minor == 4800
    outcome = await refund_order_for_agent(
        uow, agent_id=AGENT, order_id=order_id, now=clock.now(), refunder=refunder
    )
    assert outcome.status is RefundStatus.DONE
    assert refunder.refunded == []  # a Stars refund cannot be partial: the rest goes to the wallet
    assert (await show_wallet(uow(), user_id=1)).balance_minor == 9600  # not 14,400
    assert await _order_status(uow, order_id) is OrderStatus.REFUNDED
    assert (await read_books(uow)).breaches() == {}


async def test_a_key_replaced_at_once_cannot_then_be_refunded_as_unrevealed(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await _paid(uow, clock)
    await _report(uow, cipher, clock, order_id, rules=ReplacementRules())  # replaced at once
    with pytest.raises(RefundNotAllowed, match="revealed"):
        await _self_refund(uow, clock, order_id, FakeRefunder())


async def test_a_stars_refund_telegram_could_not_take_is_resumed_and_its_keys_go_back_to_stock(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    order_id = await _paid(uow, clock)
    outcome = await _self_refund(uow, clock, order_id, FakeRefunder("unreachable"))
    assert outcome.status is RefundStatus.PENDING
    assert await _order_status(uow, order_id) is OrderStatus.REFUNDING
    with pytest.raises(RefundNotAllowed):  # pressed again: it is under way, not asked twice
        await _self_refund(uow, clock, order_id, FakeRefunder())
    telegram = FakeRefunder()
    clock.advance(minutes=1)
    assert await resume_refunds(uow, telegram, now=clock.now()) == 1
    assert telegram.refunded == [(1, f"ch-{order_id}")]
    assert await _order_status(uow, order_id) is OrderStatus.REFUNDED
    async with uow().reading() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 1
    assert (await read_books(uow)).breaches() == {}


class RefundsThenDies:
    """Telegram refunds, and the answer never arrives (the bot was killed mid-call)."""

    def __init__(self) -> None:
        self.refunded: list[str] = []

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        self.refunded.append(charge_id)
        raise ConnectionError("killed before the answer came back")


async def test_a_refund_telegram_made_before_a_crash_is_settled_from_its_record_not_called_again(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    order_id = await _paid(uow, clock)
    dying = RefundsThenDies()
    await _self_refund(uow, clock, order_id, dying)
    assert await _order_status(uow, order_id) is OrderStatus.REFUNDING
    never_called = FakeRefunder("refuse")
    clock.advance(minutes=1)
    settled = await resume_refunds(
        uow, never_called, now=clock.now(), refunded_by_telegram={f"ch-{order_id}"}
    )
    assert settled == 1 and never_called.calls == 0 and dying.refunded == [f"ch-{order_id}"]
    assert await _order_status(uow, order_id) is OrderStatus.REFUNDED
    assert (await read_books(uow)).breaches() == {}


async def test_a_refund_telegram_refuses_puts_the_order_back_and_may_be_asked_again(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from store.domain.errors import RefundFailed

    await stocked_shop(uow, cipher, clock, stock=1)
    order_id = await _paid(uow, clock)
    with pytest.raises(RefundFailed):
        await _self_refund(uow, clock, order_id, FakeRefunder("refuse"))
    assert await _order_status(uow, order_id) is OrderStatus.PAID
    again = await _self_refund(uow, clock, order_id, FakeRefunder())
    assert again.status is RefundStatus.DONE
    assert await _order_status(uow, order_id) is OrderStatus.REFUNDED


async def test_a_reported_key_never_goes_back_on_sale_and_a_refunded_order_takes_no_replacement(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await _paid(uow, clock)
    case_id, key_id = await _report(uow, cipher, clock, order_id)
    await refund_order_for_agent(
        uow, agent_id=AGENT, order_id=order_id, now=clock.now(), refunder=FakeRefunder()
    )
    async with uow().reading() as tx:
        statuses = set(
            (
                await tx.connection.execute(
                    select(card_keys.c.status).where(card_keys.c.id == key_id)
                )
            )
            .scalars()
            .all()
        )
        case = await tx.cases.get(case_id)
    assert statuses == {KeyStatus.BAD.value}
    assert case is not None and case.status is CaseStatus.REFUNDED  # settled by the refund
    with pytest.raises(CaseClosed):
        await decide_case(
            uow,
            agent_id=AGENT,
            case_id=case_id,
            decision=CaseStatus.REPLACED,
            note="",
            now=clock.now(),
            refunder=FakeRefunder(),
            cipher=cipher,
        )
    async with uow().reading() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 2  # no fresh key went into it


async def test_a_long_decline_reason_reaches_the_buyer_whole_though_stored_sealed(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await _paid(uow, clock)
    case_id, _ = await _report(uow, cipher, clock, order_id)
    reason = "该卡密在您购买后已被兑换，记录显示兑换账号与您的账号一致。" * 12  # 348 characters
    decided = await decide_case(
        uow,
        agent_id=AGENT,
        case_id=case_id,
        decision=CaseStatus.DECLINED,
        note=reason,
        now=clock.now(),
        refunder=FakeRefunder(),
        cipher=cipher,
    )
    assert decided.decision_note == reason
    async with uow().reading() as tx:
        stored = await tx.cases.get(case_id)
    assert stored is not None and reason[:20] not in (stored.decision_note or "")
