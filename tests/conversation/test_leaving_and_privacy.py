"""Issue 8's broken support journeys, fed events: a screenshot sent as a file, leaving the
queue, and agents known to buyers only by an alias."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from faq.knowledge import KnowledgeBase
from faq.matcher import FaqMatcher
from handlers.action import Action, AnswerButton, CopyMessage, EditKeyboard, EditText, SendText
from handlers.context import ShopContext
from handlers.event import DocumentMessage, Person
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import CaseStatus, TicketStatus
from tests.conftest import FakeClock
from tests.conversation.conftest import ADMIN, AGENT, OTHER_AGENT
from tests.conversation.test_shop_flow import button, buttons
from tests.conversation.test_support_flow import (
    BUYER,
    OTHER_BUYER,
    agent_says,
    chats,
    delivered_order,
    open_ticket_with_agent,
    reference_of,
    seen_by,
    sent_later,
)
from tests.factories import press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

_message_ids = itertools.count(9000)


@pytest.fixture
def ctx(ctx: ShopContext, knowledge: KnowledgeBase, faq: FaqMatcher) -> ShopContext:
    """The shop as `bot.app.build_context` wires it: free text goes to the FAQ matcher."""
    return replace(ctx, knowledge=knowledge, faq=faq)


def document(
    user_id: int, file_name: str, mime_type: str = "", caption: str = ""
) -> DocumentMessage:
    message_id = next(_message_ids)

    async def download() -> bytes:
        return b"\x89PNG\r\n"

    return DocumentMessage(
        Person(user_id, user_id, "Li", "en"),
        file_name,
        6,
        caption,
        download,
        message_id,
        f"doc-{message_id}",
        mime_type,
    )


async def at_the_screenshot_step(ctx: ShopContext, order_id: int) -> None:
    """Show keys → report the key → wrong region: the bot asks for a screenshot."""
    await dispatch(press(f"keys:{order_id}"), ctx)
    keys = await dispatch(press(f"bad:{order_id}"), ctx)
    reasons = keys  # its only key: "which key?" is skipped
    [region] = [b.data for b in buttons(reasons) if b.data and b.data.endswith(":region")]
    asked = await dispatch(press(region), ctx)
    assert button(asked, "bads:")  # the screenshot is asked for, or Skip


# --- 1. a screenshot sent as a file ---------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "mime_type"),
    [("Screenshot 2026-12-03.png", "image/png"), ("IMG_0042.JPG", "")],
    ids=["by-mime-type", "by-file-name"],
)
async def test_a_picture_sent_as_a_file_at_the_screenshot_step_is_the_screenshot(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    file_name: str,
    mime_type: str,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await at_the_screenshot_step(ctx, order_id)
    sent = document(BUYER, file_name, mime_type)
    replaced = await dispatch(sent, ctx)
    said = seen_by(replaced, BUYER)
    assert "replaced at once" in said and "admins only" not in said
    async with uow() as tx:
        [case] = await tx.cases.for_user(BUYER, 5)
    assert case.status is CaseStatus.REPLACED and case.screenshot == sent.file_id


async def test_a_buyers_file_outside_any_step_gets_a_pointer_not_the_admin_refusal(
    ctx: ShopContext,
) -> None:
    for sent in (document(BUYER, "keys.txt", "text/plain"), document(BUYER, "shot.png")):
        reply = await dispatch(sent, ctx)
        said = seen_by(reply, BUYER)
        assert "admins only" not in said and "nothing is waiting for one" in said
        assert "My key doesn't work" in said


async def test_a_buyers_file_captioned_import_is_still_refused_as_admin_only(
    ctx: ShopContext,
) -> None:
    reply = await dispatch(document(BUYER, "keys.txt", "text/plain", "/import STEAM-50"), ctx)
    assert "admins only" in seen_by(reply, BUYER)


async def test_an_admins_file_without_the_import_caption_is_told_how_to_import(
    ctx: ShopContext,
) -> None:
    reply = await dispatch(document(ADMIN, "keys.txt", "text/plain"), ctx)
    assert "/import" in seen_by(reply, ADMIN)


async def test_a_picture_file_within_a_ticket_is_copied_to_the_agent(ctx: ShopContext) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    sent = document(BUYER, "error.png", "image/png", "this error")
    relayed = await dispatch(sent, ctx)
    assert AGENT in chats(relayed)
    [copy] = [a for a in relayed if isinstance(a, CopyMessage)]
    assert copy.message_id == sent.message_id and f"#{ticket_id}" in str(copy.caption_html)


# --- 2. leaving the queue -------------------------------------------------------------------


async def queued_behind_another(ctx: ShopContext) -> int:
    """Another buyer waits first, then ours; their place message is sent (id 777). Ours."""
    await dispatch(text("人工", user_id=OTHER_BUYER), ctx)
    await dispatch(text("人工"), ctx)
    sent = await sent_later(ctx, sent_as=777)
    [place] = [a for a in sent if isinstance(a, SendText) and a.chat_id == BUYER]
    assert "number 2" in place.html
    async with ctx.uow() as tx:
        ticket = await tx.tickets.open_for_user(BUYER)
    assert ticket is not None
    return ticket.id


async def test_the_queue_message_offers_to_leave_the_queue_in_the_buyers_language(
    ctx: ShopContext,
) -> None:
    await dispatch(text("/start", language_code="zh-hans"), ctx)
    await dispatch(text("人工"), ctx)
    sent = await sent_later(ctx)
    [place] = [a for a in sent if isinstance(a, SendText) and a.chat_id == BUYER]
    assert place.keyboard is not None
    [[leave]] = place.keyboard
    assert leave.text == "取消排队" and leave.data is not None
    assert leave.data.startswith("leave:") and len(leave.data.encode()) <= 64


async def test_cancel_while_queued_closes_the_ticket_and_later_words_are_not_relayed(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    ticket_id = await queued_behind_another(ctx)
    cancelled = await dispatch(text("/cancel"), ctx)
    assert "You've left the queue" in seen_by(cancelled, BUYER)
    [edit] = [a for a in cancelled if isinstance(a, EditText)]
    assert edit.message_id == 777 and edit.keyboard is None  # the button goes away
    async with uow() as tx:
        ticket = await tx.tickets.get(ticket_id)
    assert ticket is not None and ticket.status is TicketStatus.CLOSED
    later = await dispatch(text("how do i get a refund"), ctx)
    assert "the agent will see it" not in seen_by(later, BUYER)  # the FAQ answers again
    await dispatch(agent_says("/duty on"), ctx)
    assert BUYER not in chats(await sent_later(ctx))  # no agent is handed the closed ticket


async def test_the_leave_button_closes_the_ticket_and_those_behind_move_up(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    await dispatch(text("人工"), ctx)
    await sent_later(ctx, sent_as=778)
    async with uow() as tx:
        mine = await tx.tickets.open_for_user(BUYER)
    assert mine is not None
    await dispatch(text("人工", user_id=OTHER_BUYER), ctx)
    behind = await sent_later(ctx)
    assert "number 2" in seen_by(behind, OTHER_BUYER)
    left = await dispatch(press(f"leave:{mine.id}", message_id=778), ctx)
    assert isinstance(left[0], AnswerButton)
    [edit] = [a for a in left if isinstance(a, EditText)]
    assert edit.message_id == 778 and "You left the queue" in edit.html and not edit.keyboard
    moved = await sent_later(ctx)
    assert "number 1" in seen_by(moved, OTHER_BUYER)
    async with uow() as tx:
        ticket = await tx.tickets.get(mine.id)
    assert ticket is not None and ticket.status is TicketStatus.CLOSED


async def test_leaving_a_conversation_with_an_agent_tells_the_agent(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    cancelled = await dispatch(text("/cancel"), ctx)
    assert "ended the conversation" in seen_by(cancelled, BUYER)
    assert f"The buyer left: ticket #{ticket_id} is closed" in seen_by(cancelled, AGENT)
    later = await dispatch(text("hello?"), ctx)
    assert AGENT not in chats(later)
    replied = await dispatch(agent_says("still there?"), ctx)
    assert BUYER not in chats(replied)
    async with uow() as tx:
        agent = await tx.agents.get(AGENT)
    assert agent is not None and agent.active_ticket_id is None and agent.open_tickets == 0


async def test_someone_elses_or_a_stale_leave_button_closes_nothing(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    await dispatch(text("人工", user_id=OTHER_BUYER), ctx)
    async with uow() as tx:
        theirs = await tx.tickets.open_for_user(OTHER_BUYER)
    assert theirs is not None
    forged = await dispatch(press(f"leave:{theirs.id}"), ctx)
    assert popup_alert(forged) == "You're no longer in the queue."
    async with uow() as tx:
        still = await tx.tickets.get(theirs.id)
    assert still is not None and still.status is TicketStatus.QUEUED


def popup_alert(actions: list[Action]) -> str:
    [only] = actions
    assert isinstance(only, AnswerButton) and only.alert
    return only.text or ""


# --- 3. agents are known to buyers by an alias ----------------------------------------------


def buyer_saw(actions: list[Action]) -> str:
    """Everything the buyer would read: texts, edits and the captions of copies."""
    return "\n".join(
        str(a.caption_html or "") if isinstance(a, CopyMessage) else a.html
        for a in actions
        if isinstance(a, SendText | EditText | CopyMessage) and a.chat_id == BUYER
    )


async def test_no_part_of_the_agents_telegram_account_reaches_the_buyer(
    ctx: ShopContext,
) -> None:
    told: list[Action] = []
    await dispatch(agent_says("/duty on", name="Mei Chen"), ctx)
    told += await dispatch(text("人工"), ctx)
    told += await sent_later(ctx)
    told += await dispatch(agent_says("hello, how can I help?", name="Mei Chen"), ctx)
    told += await dispatch(agent_says("/close", name="Mei Chen"), ctx)
    seen = buyer_saw(told)
    assert "Agent 01 is with you" in seen and "👩‍💼 Agent 01: hello" in seen
    assert "How did Agent 01 do?" in seen
    assert "Mei" not in seen and str(AGENT) not in seen


async def test_each_agent_has_a_stable_numbered_alias_by_default(ctx: ShopContext) -> None:
    await dispatch(agent_says("/duty on"), ctx)
    await dispatch(agent_says("/duty on", agent_id=OTHER_AGENT, name="Bo"), ctx)
    await dispatch(agent_says("/duty off"), ctx)
    await dispatch(agent_says("/duty on"), ctx)  # coming back keeps the number
    shown = await dispatch(agent_says("/alias"), ctx)
    assert "Agent 01" in seen_by(shown, AGENT) and "never your Telegram name" in seen_by(
        shown, AGENT
    )
    other = await dispatch(agent_says("/alias", agent_id=OTHER_AGENT, name="Bo"), ctx)
    assert "Agent 02" in seen_by(other, OTHER_AGENT)


async def test_an_agent_chooses_an_alias_and_buyers_see_it_on_relays_and_ratings(
    ctx: ShopContext,
) -> None:
    await dispatch(text("/start", language_code="zh-hans"), ctx)  # the buyer reads Chinese
    await dispatch(agent_says("/duty on"), ctx)
    chosen = await dispatch(agent_says("/alias  小美 "), ctx)
    assert "“Agent 小美”" in seen_by(chosen, AGENT)
    told = [*await dispatch(text("人工"), ctx), *await sent_later(ctx)]
    told += await dispatch(agent_says("您好"), ctx)
    told += await dispatch(agent_says("/close"), ctx)
    seen = buyer_saw(told)
    assert "客服 小美 正在为您服务" in seen and "👩‍💼 客服 小美：您好" in seen
    assert "请为客服 小美 的服务打分" in seen and "Mei" not in seen


@pytest.mark.parametrize("alias", ["x" * 17, "\u200b", "a\nb\u202e"], ids=["long", "zwsp", "ctrl"])
async def test_an_alias_that_cannot_be_one_is_refused_and_the_old_one_stays(
    ctx: ShopContext, alias: str
) -> None:
    await dispatch(agent_says("/duty on"), ctx)
    refused = await dispatch(agent_says(f"/alias {alias}"), ctx)
    assert "Usage: /alias" in seen_by(refused, AGENT)
    assert "Agent 01" in seen_by(await dispatch(agent_says("/alias"), ctx), AGENT)


async def test_a_buyer_cannot_set_an_alias(ctx: ShopContext) -> None:
    refused = await dispatch(text("/alias 客服经理"), ctx)
    assert "for agents only" in seen_by(refused, BUYER)


async def test_the_agent_reads_the_buyers_first_name_but_never_their_id_beyond_the_card(
    ctx: ShopContext,
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    relayed = await dispatch(text("my order?"), ctx)
    assert seen_by(relayed, AGENT) == f"🎫 #{ticket_id} · Li: my order?"
    assert str(BUYER) not in seen_by(relayed, AGENT)


async def test_a_screenshot_of_a_case_for_an_agent_is_copied_to_them_with_the_card(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    clock.advance(hours=30)  # past automatic replacement: a person decides
    await at_the_screenshot_step(ctx, order_id)
    await dispatch(agent_says("/duty on"), ctx)
    sent = document(BUYER, "error.png", "image/png")
    reported = await dispatch(sent, ctx)
    reference = await reference_of(ctx, order_id)
    assert f"Your report on order {reference} is in" in seen_by(reported, BUYER)
    card = await sent_later(ctx)
    [copy] = [a for a in card if isinstance(a, CopyMessage) and a.chat_id == AGENT]
    assert copy.from_chat_id == BUYER and copy.message_id == sent.message_id
    async with uow() as tx:
        [case] = await tx.cases.for_user(BUYER, 5)
    assert case.status is CaseStatus.OPEN and case.screenshot == sent.file_id


async def test_cancel_during_a_bad_key_report_leaves_the_report_not_the_conversation(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    ticket_id = await open_ticket_with_agent(ctx)
    await at_the_screenshot_step(ctx, order_id)
    cancelled = await dispatch(text("/cancel"), ctx)
    assert seen_by(cancelled, BUYER) == "Cancelled." and AGENT not in chats(cancelled)
    async with uow() as tx:
        ticket = await tx.tickets.get(ticket_id)
        assert await tx.states.get(BUYER) is None
    assert ticket is not None and ticket.status is TicketStatus.ASSIGNED
    left = await dispatch(text("/cancel"), ctx)  # with no step left, the second one leaves
    assert "ended the conversation" in seen_by(left, BUYER)


async def test_an_agent_may_choose_an_alias_before_ever_coming_on_duty(ctx: ShopContext) -> None:
    chosen = await dispatch(agent_says("/alias 小美"), ctx)
    assert "“Agent 小美”" in seen_by(chosen, AGENT)
    await dispatch(agent_says("/duty on"), ctx)
    told = [*await dispatch(text("人工"), ctx), *await sent_later(ctx)]
    assert "Agent 小美 is with you" in buyer_saw(told)


async def test_the_screenshot_takes_away_the_skip_button_it_made_unneeded(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    reasons = await dispatch(press(f"bad:{order_id}"), ctx)
    [region] = [b.data for b in buttons(reasons) if b.data and b.data.endswith(":region")]
    await dispatch(press(region, message_id=41), ctx)  # this message becomes the prompt
    replied = await dispatch(document(BUYER, "shot.png", "image/png"), ctx)
    assert EditKeyboard(BUYER, 41, None) in replied
