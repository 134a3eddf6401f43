"""The outbox: claimed by the sender, finished once sent, and what a send leaves behind."""

from __future__ import annotations

from store.domain.model import OrderStatus
from store.domain.outbox import Delivery, OutboxReceipt, QueuePosition, TicketAssigned
from store.domain.support import SupportRules
from store.services.agent_duty import set_duty
from store.services.outbox import CLAIM_TIMEOUT, claim_outbox, finish_outbox
from store.services.queue import ask_for_human
from store.services.ticket import buyer_wrote
from tests.conftest import FakeClock
from tests.factories import paid_order
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork

CIPHER = FakeCipher()


async def test_an_item_is_claimed_once_until_a_crashed_sender_s_claim_runs_out(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await paid_order(db.unit_of_work, CIPHER, clock)
    [item] = await claim_outbox(FakeUnitOfWork(db), now=clock.now())
    assert isinstance(item.payload, Delivery) and item.attempts == 1
    assert await claim_outbox(FakeUnitOfWork(db), now=clock.now()) == []
    clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() + 1)
    [again] = await claim_outbox(FakeUnitOfWork(db), now=clock.now())
    assert again.id == item.id and again.attempts == 2


async def test_a_sent_delivery_marks_its_order_delivered_and_keeps_its_message(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    [item] = await claim_outbox(FakeUnitOfWork(db), now=clock.now())
    await finish_outbox(
        FakeUnitOfWork(db), item=item, now=clock.now(), sent=True, receipt=OutboxReceipt(55)
    )
    stored = db.tables.orders[order.id]
    assert (stored.status, stored.delivered_at, stored.notice_message_id) == (
        OrderStatus.DELIVERED,
        clock.now(),
        55,
    )
    assert db.tables.outbox[item.id].status == "sent"


async def test_an_item_that_failed_to_send_is_tried_again_and_changes_nothing(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    order = await paid_order(db.unit_of_work, CIPHER, clock)
    [item] = await claim_outbox(FakeUnitOfWork(db), now=clock.now())
    await finish_outbox(FakeUnitOfWork(db), item=item, now=clock.now(), sent=False)
    assert db.tables.orders[order.id].status is OrderStatus.PAID
    [again] = await claim_outbox(FakeUnitOfWork(db), now=clock.now())
    assert again.id == item.id


async def test_an_item_given_up_on_is_never_sent_again(clock: FakeClock) -> None:
    db = FakeDatabase()
    await paid_order(db.unit_of_work, CIPHER, clock)
    [item] = await claim_outbox(FakeUnitOfWork(db), now=clock.now())
    await finish_outbox(FakeUnitOfWork(db), item=item, now=clock.now(), sent=False, give_up=True)
    clock.advance(minutes=5)
    assert await claim_outbox(FakeUnitOfWork(db), now=clock.now()) == []
    assert db.tables.outbox[item.id].status == "failed"


async def test_a_sent_queue_place_becomes_the_message_later_places_edit(clock: FakeClock) -> None:
    db = FakeDatabase()
    handoff = await ask_for_human(
        FakeUnitOfWork(db), user_id=1, first_name="", text="hi", now=clock.now(), cipher=CIPHER
    )
    [item] = await claim_outbox(FakeUnitOfWork(db), now=clock.now())
    assert item.payload == QueuePosition(handoff.ticket.id)
    await finish_outbox(
        FakeUnitOfWork(db), item=item, now=clock.now(), sent=True, receipt=OutboxReceipt(9)
    )
    assert db.tables.tickets[handoff.ticket.id].queue_message_id == 9


async def test_what_the_buyer_wrote_while_waiting_counts_as_relayed_only_once_the_card_is_sent(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    handoff = await ask_for_human(
        FakeUnitOfWork(db), user_id=1, first_name="", text="hi", now=clock.now(), cipher=CIPHER
    )
    relay = await buyer_wrote(
        FakeUnitOfWork(db), user_id=1, text="anyone?", now=clock.now(), cipher=CIPHER
    )
    assert relay is not None
    await set_duty(
        FakeUnitOfWork(db),
        agent_id=900,
        display_name="",
        on=True,
        now=clock.now(),
        rules=SupportRules(),
    )
    card = next(
        i
        for i in await claim_outbox(FakeUnitOfWork(db), now=clock.now())
        if isinstance(i.payload, TicketAssigned)
    )
    await finish_outbox(FakeUnitOfWork(db), item=card, now=clock.now(), sent=False)  # a failure
    assert not db.tables.messages[relay.message_id].relayed
    clock.advance(seconds=1)
    card = next(
        i
        for i in await claim_outbox(FakeUnitOfWork(db), now=clock.now())
        if isinstance(i.payload, TicketAssigned)
    )
    await finish_outbox(
        FakeUnitOfWork(db),
        item=card,
        now=clock.now(),
        sent=True,
        receipt=OutboxReceipt(relayed=(relay.message_id,)),
    )
    assert db.tables.messages[relay.message_id].relayed
    assert handoff.ticket.id == card.payload.ticket_id  # type: ignore[union-attr]
