"""The human queue, self-service refunds and bad-key cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.case import ReplacementRules
from store.domain.errors import NotYourOrder, RefundNotAllowed
from store.domain.model import (
    CaseReason,
    CaseStatus,
    KeyStatus,
    OrderStatus,
    TicketPriority,
    TicketStatus,
)
from store.domain.order import HoldRules
from store.domain.outbox import OutboxItem, OutboxReceipt, TicketAssigned
from store.domain.payment import TopupRules
from store.domain.refund import RefundRules
from store.domain.support import SupportRules
from store.services.agent_duty import set_duty, transfer_ticket
from store.services.case import decide_case, keys_to_report, report_bad_key
from store.services.order import reserve_keys
from store.services.outbox import claim_outbox, finish_outbox
from store.services.payment import confirm_payment
from store.services.question import question_text, record_question, support_stats
from store.services.queue import Handoff, ask_for_human, claim_next_ticket
from store.services.refund import refund_order
from store.services.response_target import check_response_targets
from store.services.reveal import reveal_keys
from store.services.sealing import open_text
from store.services.ticket import (
    agent_wrote,
    assignment_card,
    buyer_wrote,
    close_ticket,
    rate_ticket,
)
from store.services.wallet import show_wallet
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, stocked_shop

RULES = SupportRules(capacity=2, first_response_minutes=5, next_response_minutes=10)
HOLD = HoldRules()
TOPUP = TopupRules(star_value_minor=10, allowed_stars=(100,))
CIPHER = CardKeyCipher(["a passphrase for sealing support text, 32+ chars"])


RecordingRefunder = FakeRefunder


CIPHER = CardKeyCipher(["a support-test passphrase longer than 32 chars"])


async def ask(
    uow: UnitOfWorkFactory,
    clock: FakeClock,
    user_id: int,
    priority: TicketPriority = TicketPriority.GENERAL,
    kind: str = "question",
) -> Handoff:
    return await ask_for_human(
        uow(),
        user_id=user_id,
        first_name="",
        text="help",
        now=clock.now(),
        cipher=CIPHER,
        priority=priority,
        kind=kind,
    )


async def duty(uow: UnitOfWorkFactory, clock: FakeClock, agent_id: int, on: bool = True):  # type: ignore[no-untyped-def]
    return await set_duty(
        uow(), agent_id=agent_id, display_name=f"A{agent_id}", on=on, now=clock.now(), rules=RULES
    )


async def test_with_nobody_on_duty_a_ticket_waits_for_the_first_agent_to_come_on(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    handoff = await ask(uow, clock, 1)
    assert handoff.standing is not None and handoff.standing.position == 1
    assert handoff.standing.expected_wait_seconds is None and handoff.standing.agents_on_duty == 0
    _, assigned = await duty(uow, clock, 900)
    assert [(a.ticket.id, a.agent_id) for a in assigned] == [(handoff.ticket.id, 900)]


async def test_tickets_go_to_the_least_loaded_agent_with_room_and_then_queue(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await duty(uow, clock, 900)
    await duty(uow, clock, 901)
    handoffs = [await ask(uow, clock, user) for user in range(1, 6)]
    agents = [h.agent.user_id if h.agent else None for h in handoffs]
    assert agents == [900, 901, 900, 901, None]
    last = handoffs[-1].standing
    assert last is not None and last.position == 1
    assert last.expected_wait_seconds == 5 * 60 // 4  # one place, 5 min default handling, 4 slots


async def test_bad_key_cases_are_served_before_general_questions(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await duty(uow, clock, 900)
    for busy_buyer in (8, 9):  # the agent's two places are taken: new tickets wait
        await ask(uow, clock, busy_buyer)
    general = await ask(uow, clock, 1)
    clock.advance(minutes=1)
    urgent = await ask(uow, clock, 2, priority=TicketPriority.BAD_KEY, kind="bad_key")
    taken = await claim_next_ticket(uow(), agent_id=900, now=clock.now())
    assert taken is not None and taken.id == urgent.ticket.id
    assert general.ticket.status is TicketStatus.QUEUED


async def test_closing_a_ticket_frees_room_for_the_next_one_and_the_buyer_rates_once(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await duty(uow, clock, 900)
    first, second, third = [await ask(uow, clock, u) for u in (1, 2, 3)]
    assert third.standing is not None
    clock.advance(minutes=3)
    await agent_wrote(uow(), agent_id=900, text="hello", now=clock.now(), cipher=CIPHER)
    closing = await close_ticket(uow(), agent_id=900, now=clock.now())
    closed, assigned = closing.ticket, closing.assignments
    assert closed.id == first.ticket.id and [a.ticket.id for a in assigned] == [third.ticket.id]
    assert await rate_ticket(uow(), user_id=1, ticket_id=closed.id, rating=5)
    assert not await rate_ticket(uow(), user_id=1, ticket_id=closed.id, rating=1)
    assert not await rate_ticket(
        uow(), user_id=2, ticket_id=second.ticket.id, rating=4
    )  # still open


async def test_messages_are_relayed_both_ways_and_a_transfer_back_to_the_queue_works(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await ask(uow, clock, 1)
    relay = await buyer_wrote(
        uow(), user_id=1, text="still waiting", now=clock.now(), cipher=CIPHER
    )
    assert relay is not None and relay.chat_id is None  # nobody has it yet
    await duty(uow, clock, 900)
    reply = await agent_wrote(uow(), agent_id=900, text="on it", now=clock.now(), cipher=CIPHER)
    assert reply.chat_id == 1
    back, _ = await transfer_ticket(uow(), agent_id=900, to_agent_id=None, now=clock.now())
    assert back.status is TicketStatus.QUEUED


async def test_a_missed_response_target_is_recorded_and_alerted_once(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await ask(uow, clock, 1)
    assert await check_response_targets(uow(), now=clock.advance(minutes=4), rules=RULES) == []
    breached = await check_response_targets(uow(), now=clock.advance(minutes=2), rules=RULES)
    assert [target for _, target in breached] == ["first"]
    assert await check_response_targets(uow(), now=clock.advance(minutes=2), rules=RULES) == []
    await duty(uow, clock, 900)
    await agent_wrote(uow(), agent_id=900, text="hi", now=clock.now(), cipher=CIPHER)
    await buyer_wrote(uow(), user_id=1, text="and?", now=clock.now(), cipher=CIPHER)
    late = await check_response_targets(uow(), now=clock.advance(minutes=11), rules=RULES)
    assert [target for _, target in late] == ["next"]
    stats = await support_stats(uow(), since=clock.now().replace(hour=0, minute=0))
    assert stats.breaches_today == 2 and stats.tickets_today == 1


async def _paid_order(
    uow: UnitOfWorkFactory,
    clock: FakeClock,
    user_id: int = 1,
    quantity: int = 1,
    sku: str = "STEAM-50",
    cipher: CardKeyCipher | None = None,
) -> int:
    """A paid order; with `cipher`, its keys are revealed too (a bad-key report needs that)."""
    reservation = await reserve_keys(
        uow(),
        user_id=user_id,
        first_name="",
        sku=sku,
        quantity=quantity,
        now=clock.now(),
        rules=HOLD,
    )
    order_id = reservation.order.id
    await confirm_payment(
        uow,
        user_id=user_id,
        payload=f"order:{order_id}",
        currency="XTR",
        amount=480 * quantity,
        charge_id=f"c{order_id}",
        now=clock.now(),
        rules=HOLD,
        topup=TOPUP,
        refunder=FakeRefunder(),
    )
    if cipher is not None:
        await reveal_keys(uow(), user_id=user_id, order_id=order_id, cipher=cipher, now=clock.now())
    return order_id


async def test_an_unrevealed_order_refunds_itself_once_and_its_keys_return_to_stock(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await _paid_order(uow, clock)
    refunder = RecordingRefunder()
    refunded = await refund_order(
        uow, user_id=1, order_id=order_id, now=clock.now(), refunder=refunder, rules=RefundRules()
    )
    assert refunded.order is not None and refunded.order.status is OrderStatus.REFUNDED
    assert refunder.refunded == [(1, f"c{order_id}")]
    with pytest.raises(RefundNotAllowed):
        await refund_order(
            uow,
            user_id=1,
            order_id=order_id,
            now=clock.now(),
            refunder=refunder,
            rules=RefundRules(),
        )
    async with uow() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 2
        assert [event for event, _, _ in await tx.card_keys.history(1)][-1] == "refunded"


async def test_a_revealed_or_old_order_is_not_refunded_without_questions(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    revealed = await _paid_order(uow, clock)
    await reveal_keys(uow(), user_id=1, order_id=revealed, cipher=cipher, now=clock.now())
    with pytest.raises(RefundNotAllowed, match="revealed"):
        await refund_order(
            uow,
            user_id=1,
            order_id=revealed,
            now=clock.now(),
            refunder=RecordingRefunder(),
            rules=RefundRules(),
        )
    old = await _paid_order(uow, clock)
    clock.advance(days=8)
    with pytest.raises(RefundNotAllowed, match="window"):
        await refund_order(
            uow,
            user_id=1,
            order_id=old,
            now=clock.now(),
            refunder=RecordingRefunder(),
            rules=RefundRules(),
        )


async def test_a_first_bad_key_report_within_a_day_is_replaced_at_once(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await _paid_order(uow, clock, cipher=cipher)
    [key] = await keys_to_report(uow(), user_id=1, order_id=order_id, cipher=cipher)
    assert key.masked == "#1 …00"
    outcome = await report_bad_key(
        uow(),
        user_id=1,
        first_name="",
        order_id=order_id,
        key_id=key.key_id,
        reason=CaseReason.INVALID,
        screenshot=None,
        now=clock.advance(hours=2),
        rules=ReplacementRules(),
        cipher=cipher,
    )
    assert outcome.replaced and outcome.case.status is CaseStatus.REPLACED
    shown = await reveal_keys(uow(), user_id=1, order_id=order_id, cipher=cipher, now=clock.now())
    assert shown.keys == ["STEAM-50-000001"]
    async with uow() as tx:
        assert [e for e, _, _ in await tx.card_keys.history(key.key_id)][-1] == "bad"


async def test_a_report_outside_the_rules_becomes_a_priority_case_an_agent_refunds(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await _paid_order(uow, clock, quantity=2, cipher=cipher)
    keys = await keys_to_report(uow(), user_id=1, order_id=order_id, cipher=cipher)
    clock.advance(hours=30)  # past the 24-hour rule
    outcome = await report_bad_key(
        uow(),
        user_id=1,
        first_name="",
        order_id=order_id,
        key_id=keys[0].key_id,
        reason=CaseReason.ALREADY_REDEEMED,
        screenshot="photo-file-id",
        now=clock.now(),
        rules=ReplacementRules(),
        cipher=cipher,
    )
    assert not outcome.replaced and outcome.handoff is not None
    assert outcome.handoff.ticket.priority is TicketPriority.BAD_KEY
    await duty(uow, clock, 900)
    refunder = RecordingRefunder()
    decided = await decide_case(
        uow,
        agent_id=900,
        case_id=outcome.case.id,
        decision=CaseStatus.REFUNDED,
        note="confirmed",
        now=clock.now(),
        refunder=refunder,
        cipher=cipher,
    )
    assert (
        decided.status is CaseStatus.REFUNDED and refunder.refunded == []
    )  # 2 keys: back to the wallet
    assert (await show_wallet(uow(), user_id=1)).balance_minor == 4800
    declined = await report_bad_key(
        uow(),
        user_id=1,
        first_name="",
        order_id=order_id,
        key_id=keys[1].key_id,
        reason=CaseReason.OTHER,
        screenshot=None,
        now=clock.now(),
        rules=ReplacementRules(),
        cipher=cipher,
    )
    final = await decide_case(
        uow,
        agent_id=900,
        case_id=declined.case.id,
        decision=CaseStatus.DECLINED,
        note="the key was redeemed by you",
        now=clock.now(),
        refunder=refunder,
        cipher=cipher,
    )
    assert final.status is CaseStatus.DECLINED
    assert final.decision_note == "the key was redeemed by you"  # handed back opened
    async with uow().reading() as tx:
        stored = await tx.cases.get(declined.case.id)
    assert stored is not None and "redeemed by you" not in (stored.decision_note or "")
    kinds = {item.kind for item in await claim_outbox(uow(), now=clock.now())}
    assert "case_decided" in kinds
    async with uow() as tx:
        statuses = [row for row in (await tx.card_keys.sold_keys(order_id))]
    assert len(statuses) == 1  # the refunded bad key is no longer among the order's keys
    assert KeyStatus.BAD.value == "bad"


async def test_containment_counts_questions_settled_without_a_human(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    for n in range(4):
        await record_question(
            uow(),
            user_id=n,
            language="en",
            action="answer",
            entry_id="refund_policy",
            score=90,
            now=clock.now(),
        )
    await ask(uow, clock, 1)
    stats = await support_stats(uow(), since=clock.now().replace(hour=0, minute=0))
    assert stats.questions_today == 4 and stats.containment_percent == 75.0


async def test_an_agent_refunds_a_one_key_stars_case_through_telegram_and_only_their_own(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await _paid_order(uow, clock, cipher=cipher)
    [key] = await keys_to_report(uow(), user_id=1, order_id=order_id, cipher=cipher)
    clock.advance(hours=30)
    outcome = await report_bad_key(
        uow(),
        user_id=1,
        first_name="",
        order_id=order_id,
        key_id=key.key_id,
        reason=CaseReason.INVALID,
        screenshot=None,
        now=clock.now(),
        rules=ReplacementRules(),
        cipher=cipher,
    )
    await duty(uow, clock, 900)
    await duty(uow, clock, 901)
    refunder = RecordingRefunder()
    with pytest.raises(NotYourOrder):  # 901 does not hold this buyer's conversation
        await decide_case(
            uow,
            agent_id=901,
            case_id=outcome.case.id,
            decision=CaseStatus.REFUNDED,
            note="",
            now=clock.now(),
            refunder=refunder,
            cipher=cipher,
        )
    decided = await decide_case(
        uow,
        agent_id=900,
        case_id=outcome.case.id,
        decision=CaseStatus.REFUNDED,
        note="bad",
        now=clock.now(),
        refunder=refunder,
        cipher=cipher,
    )
    assert decided.status is CaseStatus.REFUNDED and refunder.refunded == [(1, f"c{order_id}")]
    async with uow() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.status is OrderStatus.REFUNDED


async def test_support_text_stored_before_it_was_sealed_still_reads(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow() as tx:  # rows as an older version wrote them: plain text
        await tx.users.ensure(1, "", clock.now())
        ticket_id = await tx.tickets.add(
            user_id=1,
            priority=TicketPriority.GENERAL,
            kind="question",
            subject="an old subject",
            created_at=clock.now(),
            waiting_since=clock.now(),
        )
        for body in ("old words", "gAAAAA is what the screen shows"):  # looks sealed; is not
            await tx.tickets.add_message(
                ticket_id=ticket_id,
                sender="buyer",
                author_id=1,
                body=body,
                relayed=False,
                created_at=clock.now(),
            )
        question_id = await tx.questions.add(1, "en", "fallback", None, 0, clock.now(), "old?")
        await tx.commit()
    await duty(uow, clock, 900)
    card = await assignment_card(uow(), ticket_id=ticket_id, agent_id=900, cipher=CIPHER)
    assert card is not None and card.ticket.subject == "an old subject"
    assert [(m.author_id, m.body, m.media, m.source_message_id) for m in card.waiting] == [
        (1, "old words", None, None),
        (1, "gAAAAA is what the screen shows", None, None),
    ]
    assert await question_text(uow(), user_id=1, question_id=question_id, cipher=CIPHER) == "old?"


async def test_a_long_chinese_question_is_kept_whole_sealed_and_reaches_the_agent_whole(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    long = "我的卡密无法兑换请帮忙" * 45  # 495 characters, three bytes each
    question_id = await record_question(
        uow(),
        user_id=1,
        language="zh",
        action="fallback",
        entry_id=None,
        score=0,
        now=clock.now(),
        text=long,
        cipher=CIPHER,
    )
    asked = await question_text(uow(), user_id=1, question_id=question_id, cipher=CIPHER)
    assert asked == long  # sealed whole (questions.text is Text)
    handoff = await ask_for_human(
        uow(), user_id=1, first_name="", text=long, now=clock.now(), cipher=CIPHER
    )
    subject = open_text(CIPHER, handoff.ticket.subject)
    assert subject and long.startswith(subject) and len(handoff.ticket.subject) <= 200
    await duty(uow, clock, 900)  # the subject holds the start; the whole question follows it
    card = await assignment_card(uow(), ticket_id=handoff.ticket.id, agent_id=900, cipher=CIPHER)
    assert card is not None
    assert [(m.author_id, m.body, m.media, m.source_message_id) for m in card.waiting] == [
        (1, long, None, None)
    ]


async def test_what_a_buyer_wrote_while_waiting_is_relayed_only_once_the_card_was_sent(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    handoff = await ask(uow, clock, 1)
    await buyer_wrote(uow(), user_id=1, text="are you there?", now=clock.now(), cipher=CIPHER)
    await duty(uow, clock, 900)

    async def waiting() -> list[str]:
        card = await assignment_card(
            uow(), ticket_id=handoff.ticket.id, agent_id=900, cipher=CIPHER
        )
        assert card is not None
        return [m.body for m in card.waiting]

    async def the_card() -> OutboxItem:
        claimed = await claim_outbox(uow(), now=clock.now())
        [item] = [i for i in claimed if isinstance(i.payload, TicketAssigned)]
        return item

    item = await the_card()
    assert await waiting() == await waiting() == ["are you there?"]  # showing it changes nothing
    await finish_outbox(uow(), item=item, now=clock.now(), sent=False)  # Telegram did not take it
    item = await the_card()
    assert await waiting() == ["are you there?"]  # so the card tried again still shows it
    shown = await assignment_card(uow(), ticket_id=handoff.ticket.id, agent_id=900, cipher=CIPHER)
    assert shown is not None
    receipt = OutboxReceipt(relayed=tuple(m.id for m in shown.waiting))
    await finish_outbox(uow(), item=item, now=clock.now(), sent=True, receipt=receipt)
    assert await waiting() == []
