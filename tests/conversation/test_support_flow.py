"""After-sales and human support, fed events: FAQ answers, the human queue, relays, refunds, cases.

Each test plays both sides through `dispatch` (and, for what a transaction decides to send later,
the outbox as the sender would drain it) and checks what the buyer and the agent would see.
"""

from __future__ import annotations

import html as html_module
import itertools
from dataclasses import replace

import pytest

from faq.answer import render_answer
from faq.knowledge import KnowledgeBase
from faq.matcher import FaqMatcher
from handlers.action import Action, AnswerButton, CopyMessage, EditText, SendText
from handlers.context import ShopContext
from handlers.event import OtherMessage, Person, PhotoMessage, TextMessage
from handlers.language import LanguageMemory
from handlers.outbox import render_outbox
from handlers.router import dispatch
from handlers.text import Markup, escape
from sandbox.html_entities import parse_html, utf16_len
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import CaseStatus, Language, OrderStatus, TicketPriority, TicketStatus
from store.domain.outbox import OutboxReceipt
from store.services.agent_duty import agent_tickets
from store.services.outbox import claim_outbox, finish_outbox
from store.services.question import faq_feedback
from store.services.response_target import check_response_targets
from store.services.wallet import credit_wallet, show_wallet
from tests.conftest import FakeClock
from tests.conversation.conftest import ADMIN, AGENT, OTHER_AGENT, RecordingRefunder
from tests.conversation.test_shop_flow import button, buttons, buy_and_pay, html
from tests.factories import press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

BUYER = 1001
OTHER_BUYER = 2002
_message_ids = itertools.count(5000)


@pytest.fixture
def ctx(ctx: ShopContext, knowledge: KnowledgeBase, faq: FaqMatcher) -> ShopContext:
    """The shop as `bot.app.build_context` wires it: free text goes to the FAQ matcher."""
    return replace(ctx, knowledge=knowledge, faq=faq)


def agent_says(body: str, agent_id: int = AGENT, name: str = "Mei") -> TextMessage:
    return TextMessage(Person(agent_id, agent_id, name, "en"), body, next(_message_ids))


def photo(user_id: int, caption: str = "", name: str = "Li") -> PhotoMessage:
    message_id = next(_message_ids)
    return PhotoMessage(
        Person(user_id, user_id, name, "en"), message_id, f"file-{message_id}", caption
    )


def seen_by(actions: list[Action], chat_id: int) -> str:
    """What one chat would read from these actions (new messages and edits)."""
    return "\n".join(
        a.html for a in actions if isinstance(a, SendText | EditText) and a.chat_id == chat_id
    )


def chats(actions: list[Action]) -> set[int]:
    return {a.chat_id for a in actions if isinstance(a, SendText | EditText | CopyMessage)}


def refused(actions: list[Action]) -> str:
    """The text of a refusal popup (a press) or message (a command); fails if it is neither."""
    [only] = actions
    if isinstance(only, AnswerButton):
        assert only.alert
        return only.text or ""
    assert isinstance(only, SendText)
    return only.html


def visible(markup: str) -> str:
    """What Telegram counts against its limits: the text once the HTML is parsed."""
    return html_module.unescape(markup)


def popup(actions: list[Action]) -> str:
    """The short answer to a press that changes no message (a toast, not an alert)."""
    [only] = actions
    assert isinstance(only, AnswerButton) and not only.alert
    return only.text or ""


async def sent_later(ctx: ShopContext, *, sent_as: int | None = None) -> list[Action]:
    """Drain the outbox as the sender would: render every due item, and finish it as sent with
    its receipt (a new message Telegram took gets the id `sent_as`, else a fresh one)."""
    actions: list[Action] = []
    for item in await claim_outbox(ctx.uow(), now=ctx.clock.now()):
        rendered = await render_outbox(item, ctx)
        actions += rendered.actions
        kept = None if rendered.kept is None else rendered.actions[rendered.kept]
        shown = kept.message_id if isinstance(kept, EditText) else sent_as or next(_message_ids)
        receipt = OutboxReceipt(shown if kept else None, rendered.relayed)
        await finish_outbox(ctx.uow(), item=item, now=ctx.clock.now(), sent=True, receipt=receipt)
    return actions


async def delivered_order(ctx: ShopContext, user_id: int = BUYER) -> int:
    """A Stars order paid and its delivery message sent (status delivered, keys not revealed)."""
    order_id = await buy_and_pay(ctx, user_id=user_id)
    await sent_later(ctx)
    return order_id


async def open_ticket_with_agent(ctx: ShopContext, buyer: int = BUYER) -> int:
    """The agent comes on duty and the buyer asks for a person; returns the ticket id."""
    await dispatch(agent_says("/duty on"), ctx)
    await dispatch(text("人工", user_id=buyer), ctx)
    await sent_later(ctx)  # the context card
    async with ctx.uow() as tx:
        ticket = await tx.tickets.open_for_user(buyer)
    assert ticket is not None and ticket.agent_id == AGENT
    return ticket.id


async def report_bad_key_by_buttons(
    ctx: ShopContext, order_id: int, user_id: int = BUYER, reason: str = "invalid"
) -> int:
    """Show keys (a key is reported once seen) → order → key → reason → Skip; the case id."""
    await dispatch(press(f"keys:{order_id}", user_id), ctx)
    keys = await dispatch(press(f"bad:{order_id}", user_id), ctx)
    picked = [b.data for b in buttons(keys) if b.data and b.data.startswith("badk:")][:1]
    # an order of one key skips "which key?"; of more, the first key is the one reported
    reasons = await dispatch(press(picked[0], user_id), ctx) if picked else keys
    [chosen] = [b.data for b in buttons(reasons) if b.data and b.data.endswith(f":{reason}")]
    skip = await dispatch(press(chosen, user_id), ctx)
    await dispatch(press(button(skip, "bads:"), user_id), ctx)
    async with ctx.uow() as tx:
        [case] = await tx.cases.for_user(user_id, 1)
    return case.id


async def reference_of(ctx: ShopContext, order_id: int) -> str:
    """What the buyer and the agents call this order, as the database holds it."""
    async with ctx.uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None
    return order.reference


# --- 1. the FAQ answers at once ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "language", "solved_text"),
    [("怎么退款", "zh", "👍 已解决"), ("how do i get a refund", "en", "👍 Solved")],
    ids=["zh", "en"],
)
async def test_a_refund_question_is_answered_at_once_and_solved_is_stored(
    ctx: ShopContext, knowledge: KnowledgeBase, question: str, language: str, solved_text: str
) -> None:
    answered = await dispatch(text(question, language_code=language), ctx)
    [message] = answered
    assert isinstance(message, SendText) and message.chat_id == BUYER
    expected = render_answer(knowledge.entry("request_refund"), language, ctx.faq_values())
    assert message.html == escape(expected)
    assert message.keyboard is not None
    solved, human = message.keyboard[0]
    assert solved.text == solved_text and solved.data is not None
    assert solved.data.startswith("faqok:") and human.data == f"human:{solved.data[6:]}"
    assert [b.data for b in message.keyboard[1]] == ["refunds"]
    thanks = await dispatch(press(solved.data, language_code=language), ctx)
    assert popup(thanks[:1]) in ("Thanks for the feedback!", "谢谢反馈！")  # and 👍 goes
    assert await faq_feedback(ctx.uow()) == [("request_refund", 1, 0)]


async def test_an_ambiguous_question_suggests_entries_and_offers_a_person(
    ctx: ShopContext,
) -> None:
    suggested = await dispatch(text("order"), ctx)
    assert "Did you mean" in html(suggested)
    datas = [b.data or "" for b in buttons(suggested)]
    choices, last = datas[:-1], datas[-1]
    assert 1 <= len(choices) <= 3 and all(d.startswith("faq:") for d in choices)
    assert last.startswith("human:") and buttons(suggested)[-1].text.startswith("None of these")
    chosen = await dispatch(press(choices[0]), ctx)
    assert isinstance(chosen[0], AnswerButton)
    assert button(chosen, "faqok:") and button(chosen, "menu")


async def test_nonsense_gets_the_fallback_and_a_person_is_one_press_away(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    fallback = await dispatch(text("purple monkey dishwasher"), ctx)
    assert "didn't quite get that" in html(fallback)
    human = button(fallback, "human:")
    assert button(fallback, "help") == "help"
    fetched = await dispatch(press(human), ctx)
    assert isinstance(fetched[0], AnswerButton)
    assert "Nobody is on duty" in seen_by(await sent_later(ctx), BUYER)  # the place: outbox
    async with uow() as tx:
        ticket = await tx.tickets.open_for_user(BUYER)
    assert ticket is not None and ticket.status is TicketStatus.QUEUED


async def test_choosing_the_talk_to_a_human_suggestion_fetches_a_person(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    """The knowledge base's human_agent entry is the handoff itself, chosen or matched."""
    fallback = await dispatch(text("purple monkey dishwasher"), ctx)
    question_id = int(button(fallback, "human:").split(":")[1])
    chosen = await dispatch(press(f"faq:human_agent:{question_id}"), ctx)
    assert isinstance(chosen[0], AnswerButton)
    async with uow() as tx:
        ticket = await tx.tickets.open_for_user(BUYER)
    assert ticket is not None and ticket.status is TicketStatus.QUEUED


async def test_every_action_the_knowledge_base_allows_is_a_button_on_its_answer(
    ctx: ShopContext, knowledge: KnowledgeBase
) -> None:
    """An entry may carry any action faq.knowledge allows; none is dropped from its answer."""
    from faq.knowledge import ACTIONS
    from handlers.ask import action_button

    for action in sorted(ACTIONS):
        shown = action_button(Language.EN, action, question_id=7)
        assert shown.text and shown.data
    [complaint] = [
        knowledge.entry(i)
        for i in knowledge.ids
        if i != "human_agent" and "human_agent" in knowledge.entry(i).actions
    ]
    answered = await dispatch(text(complaint.questions["en"][0]), ctx)
    assert any(b.data == "human:" + button(answered, "faqok:")[6:] for b in buttons(answered))


# --- 2. a person, at once -------------------------------------------------------------------


@pytest.mark.parametrize(
    "asking", ["人工", "转人工 退款", "human please"], ids=["person", "person-refund", "en"]
)
async def test_asking_for_a_person_queues_offline_and_the_first_agent_on_duty_gets_it(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, asking: str
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    queued = [*await dispatch(text(asking), ctx), *await sent_later(ctx)]  # the place: outbox
    assert "Nobody is on duty" in seen_by(queued, BUYER) and "number 1" in seen_by(queued, BUYER)
    assert chats(queued) == {BUYER}
    kept = await dispatch(text("order did not arrive, what is the refund policy?"), ctx)
    assert "the agent will see it" in seen_by(kept, BUYER)  # kept for the agent, not answered

    on_duty = await dispatch(agent_says("/duty on"), ctx)
    assert "On duty" in seen_by(on_duty, AGENT) and "#1" in seen_by(on_duty, AGENT)
    later = await sent_later(ctx)
    card = seen_by(later, AGENT)
    reference = await reference_of(ctx, order_id)
    assert "Ticket #1" in card and f"{reference} Steam Wallet ¥50 ×1" in card
    assert "delivered" in card and f"user {BUYER}" in card
    assert escape(asking) in card  # the first words are the ticket's subject, shown once
    assert f"🎫 #1 · Li: {escape(asking)}" not in card
    assert "🎫 #1 · Li: order did not arrive, what is the refund policy?" in card
    assert "Agent 01 is with you" in seen_by(later, BUYER)
    async with uow() as tx:
        ticket = await tx.tickets.get(1)
    assert ticket is not None and ticket.status is TicketStatus.ASSIGNED
    assert ticket.agent_id == AGENT


async def test_the_queue_message_is_edited_in_place_as_the_buyer_moves_up(
    ctx: ShopContext,
) -> None:
    await dispatch(agent_says("/duty on"), ctx)
    await dispatch(text("人工", user_id=3001), ctx)
    await dispatch(text("人工", user_id=3002), ctx)  # capacity 2: the agent is now full
    await dispatch(text("人工", user_id=3003), ctx)
    assert await dispatch(text("人工"), ctx) == []  # the place comes through the outbox
    sent = await sent_later(ctx, sent_as=777)  # Telegram gives the message it sent this id
    [place] = [a for a in sent if isinstance(a, SendText) and a.chat_id == BUYER]
    assert "number 2" in place.html
    await dispatch(agent_says("hello"), ctx)
    await dispatch(agent_says("/close"), ctx)
    moved = await sent_later(ctx)
    [edit] = [a for a in moved if isinstance(a, SendText | EditText) and a.chat_id == BUYER]
    assert isinstance(edit, EditText) and edit.message_id == 777 and "You're next" in edit.html
    assert "Agent 01 is with you" in seen_by(moved, 3003)


# --- 3. relaying ----------------------------------------------------------------------------


async def test_buyer_and_agent_talk_through_the_bot_without_seeing_each_others_account(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    asked = await dispatch(text("how do i get a refund"), ctx)  # a question, but a human has it
    assert chats(asked) == {AGENT}
    [to_agent] = asked
    assert isinstance(to_agent, SendText)
    assert to_agent.html == f"🎫 #{ticket_id} · Li: how do i get a refund"
    assert str(BUYER) not in to_agent.html
    assert button(asked, "agt:") == f"agt:{ticket_id}"

    replied = await dispatch(agent_says("Sure: which order?"), ctx)
    assert chats(replied) == {BUYER}
    assert seen_by(replied, BUYER) == "👩‍💼 Agent 01: Sure: which order?"
    assert str(AGENT) not in seen_by(replied, BUYER)

    noted = await dispatch(agent_says("/note buyer sounds upset"), ctx)
    assert chats(noted) == {AGENT} and "never sees it" in seen_by(noted, AGENT)

    async with uow() as tx:
        messages = await tx.tickets.messages(ticket_id)
    assert [(m.sender, ctx.cipher.open(m.body)) for m in messages] == [
        ("buyer", "人工"),
        ("buyer", "how do i get a refund"),
        ("agent", "Sure: which order?"),
        ("note", "buyer sounds upset"),
    ]


async def test_a_canned_reply_is_the_faq_answer_in_the_buyers_language(
    ctx: ShopContext, knowledge: KnowledgeBase
) -> None:
    await dispatch(text("/start", language_code="zh-hans"), ctx)  # the buyer reads Chinese
    await open_ticket_with_agent(ctx)
    canned = await dispatch(agent_says("/reply refund_policy"), ctx)
    answer = render_answer(knowledge.entry("refund_policy"), "zh", ctx.faq_values())
    assert seen_by(canned, BUYER) == f"👩‍💼 客服 01：{escape(answer)}"
    unknown = await dispatch(agent_says("/reply no_such_entry"), ctx)
    assert chats(unknown) == {AGENT} and "No FAQ entry" in seen_by(unknown, AGENT)


async def test_photos_are_copied_both_ways_with_a_header(ctx: ShopContext) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    sent = photo(BUYER, caption="this error")
    [copied] = await dispatch(sent, ctx)
    assert isinstance(copied, CopyMessage)
    assert (copied.chat_id, copied.from_chat_id, copied.message_id) == (
        AGENT,
        BUYER,
        sent.message_id,
    )
    assert copied.caption_html == f"🎫 #{ticket_id} · Li: this error"
    assert button([copied], "agt:") == f"agt:{ticket_id}"
    back = photo(AGENT, caption="do it like this", name="Mei")
    [returned] = await dispatch(back, ctx)
    assert returned == CopyMessage(
        BUYER, AGENT, back.message_id, Markup("👩‍💼 Agent 01: do it like this")
    )


def other(user_id: int, kind: str, caption: str = "", name: str = "Li") -> OtherMessage:
    return OtherMessage(Person(user_id, user_id, name, "en"), next(_message_ids), kind, caption)


async def test_a_sticker_is_copied_to_the_agent_after_a_header_naming_the_ticket(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    sent = other(BUYER, "sticker")
    header, copy = await dispatch(sent, ctx)
    assert isinstance(header, SendText) and header.chat_id == AGENT
    assert header.html == f"🎫 #{ticket_id} · Li sent a sticker:"
    assert button([header], "agt:") == f"agt:{ticket_id}"
    assert copy == CopyMessage(AGENT, BUYER, sent.message_id)  # a sticker takes no caption
    async with uow() as tx:
        messages = await tx.tickets.messages(ticket_id)
    assert (messages[-1].sender, messages[-1].media) == ("buyer", "sticker")


async def test_a_voice_message_is_copied_with_the_header_as_its_caption(ctx: ShopContext) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    sent = other(BUYER, "voice", caption="<listen>")
    [copied] = await dispatch(sent, ctx)
    assert isinstance(copied, CopyMessage)
    assert (copied.chat_id, copied.from_chat_id, copied.message_id) == (
        AGENT,
        BUYER,
        sent.message_id,
    )
    assert copied.caption_html == f"🎫 #{ticket_id} · Li: &lt;listen&gt;"


async def test_an_agents_location_or_video_reaches_the_buyer_as_a_copy(ctx: ShopContext) -> None:
    await open_ticket_with_agent(ctx)
    where = other(AGENT, "location", name="Mei")
    assert await dispatch(where, ctx) == [
        SendText(BUYER, Markup("👩‍💼 Agent 01 sent a location:")),
        CopyMessage(BUYER, AGENT, where.message_id),
    ]
    how = other(AGENT, "video", caption="like this", name="Mei")
    assert await dispatch(how, ctx) == [
        CopyMessage(BUYER, AGENT, how.message_id, Markup("👩‍💼 Agent 01: like this"))
    ]


@pytest.mark.parametrize(("kind", "called"), [("dice", "a dice roll"), ("poll", "a poll")])
async def test_a_dice_or_a_poll_is_not_passed_on_and_the_sender_is_told(
    ctx: ShopContext, uow: UnitOfWorkFactory, kind: str, called: str
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    from_buyer = await dispatch(other(BUYER, kind), ctx)
    assert chats(from_buyer) == {BUYER}
    assert seen_by(from_buyer, BUYER) == (
        f"Sorry, {called} can't be passed on to the agent; please put it in words."
    )
    from_agent = await dispatch(other(AGENT, kind, name="Mei"), ctx)
    assert chats(from_agent) == {AGENT}
    assert seen_by(from_agent, AGENT) == f"Sorry, {called} can't be passed on to the buyer."
    async with uow() as tx:
        messages = await tx.tickets.messages(ticket_id)
    assert [m.media for m in messages] == [None]  # only the buyer's first words


async def test_a_sticker_sent_while_waiting_reaches_the_agent_who_takes_the_ticket(
    ctx: ShopContext,
) -> None:
    await dispatch(text("人工"), ctx)
    sent = other(BUYER, "sticker")
    assert "the agent will see it" in seen_by(await dispatch(sent, ctx), BUYER)
    await dispatch(agent_says("/duty on"), ctx)
    later = await sent_later(ctx)
    assert "🎫 #1 · Li sent a sticker:" in seen_by(later, AGENT)
    assert CopyMessage(AGENT, BUYER, sent.message_id) in later


async def test_an_agent_without_a_conversation_gets_the_friendly_reply_to_a_sticker(
    ctx: ShopContext,
) -> None:
    [reply] = await dispatch(other(AGENT, "sticker", name="Mei"), ctx)
    assert isinstance(reply, SendText) and "I can read text, photos and files" in reply.html


# --- 4. closing, rating, handing over, pulling the next ------------------------------------


async def test_a_closed_conversation_is_rated_once(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    closed = await dispatch(agent_says("/close"), ctx)
    assert f"Ticket #{ticket_id} closed" in seen_by(closed, AGENT)
    assert "How did Agent 01 do?" in seen_by(closed, BUYER)
    assert [b.data for b in buttons(closed)] == [f"rate:{ticket_id}:{n}" for n in range(1, 6)]
    assert [b.text for b in buttons(closed)][-1] == "⭐⭐⭐⭐⭐"
    thanked = await dispatch(press(f"rate:{ticket_id}:5"), ctx)
    assert "Thank you" in seen_by(thanked, BUYER)
    again = await dispatch(press(f"rate:{ticket_id}:1"), ctx)
    assert refused(again) == "Already rated."
    async with uow() as tx:
        ticket = await tx.tickets.get(ticket_id)
    assert ticket is not None and ticket.status is TicketStatus.CLOSED and ticket.rating == 5


async def test_after_closing_the_buyers_text_goes_to_the_faq_again(ctx: ShopContext) -> None:
    await open_ticket_with_agent(ctx)
    await dispatch(agent_says("/close"), ctx)
    answered = await dispatch(text("how do i get a refund"), ctx)
    assert chats(answered) == {BUYER} and button(answered, "faqok:")


async def test_a_ticket_handed_back_to_the_queue_goes_to_another_agent_not_the_same_one(
    ctx: ShopContext,
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    await dispatch(agent_says("/duty on", OTHER_AGENT, "Bo"), ctx)
    handed = await dispatch(agent_says("/transfer queue"), ctx)
    assert f"Ticket #{ticket_id} handed over" in seen_by(handed, AGENT)
    later = await sent_later(ctx)
    assert f"Ticket #{ticket_id}" in seen_by(later, OTHER_AGENT)
    assert "Agent 02 is with you" in seen_by(later, BUYER)
    relayed = await dispatch(text("still there?"), ctx)
    assert chats(relayed) == {OTHER_AGENT}
    stale = await dispatch(agent_says("hello?"), ctx)  # the first agent no longer has it
    assert chats(stale) == {AGENT} and BUYER not in chats(stale)


async def test_a_ticket_is_transferred_to_a_named_agent_on_duty(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    off = await dispatch(agent_says(f"/transfer {OTHER_AGENT}"), ctx)
    assert seen_by(off, AGENT) == f"Agent #{OTHER_AGENT} is off duty; the ticket stays with you."
    await dispatch(agent_says("/duty on", OTHER_AGENT, "Bo"), ctx)
    handed = await dispatch(agent_says(f"/transfer {OTHER_AGENT}"), ctx)
    assert f"Ticket #{ticket_id} handed over" in seen_by(handed, AGENT)
    later = await sent_later(ctx)
    assert f"Ticket #{ticket_id}" in seen_by(later, OTHER_AGENT)
    assert "Agent 02 is with you" in seen_by(later, BUYER)
    reply = await dispatch(agent_says("Bo here", OTHER_AGENT, "Bo"), ctx)
    assert seen_by(reply, BUYER) == "👩‍💼 Agent 02: Bo here"
    async with uow() as tx:
        ticket = await tx.tickets.get(ticket_id)
    assert ticket is not None and ticket.agent_id == OTHER_AGENT


async def test_next_pulls_a_bad_key_case_before_an_older_general_question(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    await dispatch(agent_says("/duty on"), ctx)
    await dispatch(text("人工", user_id=3001), ctx)
    await dispatch(text("人工", user_id=3002), ctx)  # capacity 2: the rest wait for /next
    await sent_later(ctx)
    order_id = await delivered_order(ctx, user_id=OTHER_BUYER)
    await dispatch(text("人工"), ctx)  # a general question, first in time
    clock.advance(hours=30)  # past the automatic replacement window
    case_id = await report_bad_key_by_buttons(ctx, order_id, OTHER_BUYER)
    assert await dispatch(agent_says("/next"), ctx) == []  # the card comes through the outbox
    pulled = await sent_later(ctx)
    card = seen_by(pulled, AGENT)
    assert "bad-key case" in card and f"order {await reference_of(ctx, order_id)}" in card
    assert {f"agcase:{case_id}:replaced", f"agcase:{case_id}:refunded"} <= {
        b.data for b in buttons(pulled)
    }
    assert "Agent 01 is with you" in seen_by(pulled, OTHER_BUYER)
    assert await dispatch(agent_says("/next"), ctx) == []
    general = await sent_later(ctx)
    assert "Agent 01 is with you" in seen_by(general, BUYER)
    empty = await dispatch(agent_says("/next"), ctx)
    assert "Nobody is waiting" in seen_by(empty, AGENT)


async def ticket_holder(ctx: ShopContext, ticket_id: int) -> tuple[TicketStatus, int | None]:
    async with ctx.uow() as tx:
        ticket = await tx.tickets.get(ticket_id)
    assert ticket is not None
    return ticket.status, ticket.agent_id


@pytest.mark.parametrize(
    ("target", "told"),
    [
        ("9" * 30, "not a Telegram user id"),
        ("18446744073709551616", "not a Telegram user id"),  # 2**64
        ("9223372036854775808", "not a Telegram user id"),  # 2**63: past a 64-bit column
        ("١", "Usage: /transfer"),  # an Arabic-Indic one, which int() would read as 1
        ("-5", "Usage: /transfer"),
    ],
    ids=["30-digits", "2**64", "2**63", "arabic-indic", "negative"],
)
async def test_a_transfer_to_an_id_no_one_can_have_is_refused_and_the_ticket_stays(
    ctx: ShopContext, target: str, told: str
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    reply = await dispatch(agent_says(f"/transfer {target}"), ctx)
    assert chats(reply) == {AGENT} and told in seen_by(reply, AGENT)
    assert await ticket_holder(ctx, ticket_id) == (TicketStatus.ASSIGNED, AGENT)


async def test_a_transfer_to_an_agent_with_no_room_is_refused_saying_so(ctx: ShopContext) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    await dispatch(agent_says("/duty on", OTHER_AGENT, "Bo"), ctx)
    await dispatch(text("人工", user_id=3001), ctx)  # the least-loaded agent takes each
    await dispatch(text("人工", user_id=3002), ctx)
    await dispatch(text("人工", user_id=3003), ctx)
    _, mine = await agent_tickets(ctx.uow(), agent_id=AGENT)
    _, theirs = await agent_tickets(ctx.uow(), agent_id=OTHER_AGENT)
    assert (len(mine), len(theirs)) == (2, 2)  # capacity 2 each: Bo is full
    await sent_later(ctx)  # the context cards of those assignments
    reply = await dispatch(agent_says(f"/transfer {OTHER_AGENT}"), ctx)
    assert seen_by(reply, AGENT) == (
        "Agent Bo already has 2 of 2 conversations; the ticket stays with you."
    )
    assert chats(reply) == {AGENT} and await sent_later(ctx) == []
    assert await ticket_holder(ctx, ticket_id) == (TicketStatus.ASSIGNED, AGENT)


async def test_a_transfer_to_an_agent_off_duty_or_to_someone_not_an_agent_is_refused(
    ctx: ShopContext,
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    never = await dispatch(agent_says(f"/transfer {OTHER_AGENT}"), ctx)  # never came on duty
    assert seen_by(never, AGENT) == (
        f"Agent #{OTHER_AGENT} is off duty; the ticket stays with you."
    )
    await dispatch(agent_says("/duty on", OTHER_AGENT, "Bo"), ctx)
    await dispatch(agent_says("/duty off", OTHER_AGENT, "Bo"), ctx)
    gone = await dispatch(agent_says(f"/transfer {OTHER_AGENT}"), ctx)
    assert seen_by(gone, AGENT) == "Agent Bo is off duty; the ticket stays with you."
    buyer = await dispatch(agent_says(f"/transfer {OTHER_BUYER}"), ctx)
    assert seen_by(buyer, AGENT) == (
        f"User {OTHER_BUYER} is not an agent; the ticket stays with you."
    )
    myself = await dispatch(agent_says(f"/transfer {AGENT}"), ctx)
    assert "already yours" in seen_by(myself, AGENT)
    assert await sent_later(ctx) == []
    assert await ticket_holder(ctx, ticket_id) == (TicketStatus.ASSIGNED, AGENT)


async def test_an_agent_off_duty_cannot_pull_the_next_ticket(ctx: ShopContext) -> None:
    await dispatch(agent_says("/duty on"), ctx)
    await dispatch(agent_says("/duty off"), ctx)
    await dispatch(text("人工"), ctx)
    pulled = await dispatch(agent_says("/next"), ctx)
    assert chats(pulled) == {AGENT}
    assert seen_by(pulled, AGENT) == "Come on duty first: /duty on"
    async with ctx.uow() as tx:
        ticket = await tx.tickets.open_for_user(BUYER)
    assert ticket is not None and ticket.status is TicketStatus.QUEUED and ticket.agent_id is None


# --- 5. self-service refunds ----------------------------------------------------------------


async def test_an_unrevealed_stars_order_refunds_itself_once_from_its_order_screen(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: RecordingRefunder,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    screen = await dispatch(press(f"order:{order_id}"), ctx)
    assert "Status: delivered" in html(screen)
    reference = await reference_of(ctx, order_id)
    refund = next(b for b in buttons(screen) if b.data == f"refund:{reference}")
    assert refund.text == f"↩️ Refund {reference}"
    assert button(screen, "bad:") == f"bad:{reference}"
    done = await dispatch(press(refund.data or ""), ctx)
    assert f"Order {reference} refunded:" in html(done)
    again = await dispatch(press(f"refund:{order_id}"), ctx)
    assert "can't be refunded (refunded)" in refused(again)
    async with uow() as tx:
        order = await tx.orders.get(order_id)
        assert await tx.card_keys.count_available("STEAM-50") == 3
        assert [event for event, _, _ in await tx.card_keys.history(1)][-1] == "refunded"
    assert order is not None and order.status is OrderStatus.REFUNDED
    assert [user for user, _ in refunder.refunded] == [BUYER]


async def test_a_wallet_order_refunds_to_the_wallet_from_the_refund_list(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: RecordingRefunder,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    await credit_wallet(
        uow(),
        user_id=BUYER,
        amount_minor=10000,
        reason="gift",
        idempotency_key="g",
        now=clock.now(),
    )
    bought = await dispatch(press("buy:STEAM-50:1"), ctx)
    await dispatch(press(button(bought, "paywallet:")), ctx)
    await sent_later(ctx)
    assert (await show_wallet(uow(), user_id=BUYER)).balance_minor == 5200
    listing = await dispatch(press("refunds"), ctx)
    refund = button(listing, "refund:")
    assert "Choose the order to refund" in html(listing) and "7 days" in html(listing)
    assert "refunded" in html(await dispatch(press(refund), ctx))
    await dispatch(press(refund), ctx)
    assert (await show_wallet(uow(), user_id=BUYER)).balance_minor == 10000
    assert refunder.refunded == []
    async with uow() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 3


async def test_the_refund_answer_opens_the_refund_list(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    answered = await dispatch(text("I want a refund for my order"), ctx)
    listing = await dispatch(press(button(answered, "refunds")), ctx)
    assert button(listing, "refund:") == f"refund:{await reference_of(ctx, order_id)}"


async def test_a_revealed_order_is_not_refunded_and_points_to_the_bad_key_report(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: RecordingRefunder,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    stale = await dispatch(press(f"order:{order_id}"), ctx)  # drawn before the reveal
    await dispatch(press(f"keys:{order_id}"), ctx)
    screen = await dispatch(press(f"order:{order_id}"), ctx)
    reference = await reference_of(ctx, order_id)
    assert f"refund:{reference}" not in [b.data for b in buttons(screen)]
    assert button(screen, "bad:") == f"bad:{reference}"
    listing = await dispatch(press("refunds"), ctx)
    assert "My key doesn't work" in html(listing) and button(listing, "bad:")
    refusal = refused(await dispatch(press(button(stale, "refund:")), ctx))
    assert "revealed" in refusal and "My key doesn't work" in refusal
    assert refunder.refunded == []
    async with uow() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.status is OrderStatus.DELIVERED


async def test_an_order_past_the_refund_window_is_not_refunded_without_questions(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    clock.advance(days=8)
    screen = await dispatch(press(f"order:{order_id}"), ctx)
    assert f"refund:{order_id}" not in [b.data for b in buttons(screen)]
    refusal = refused(await dispatch(press(f"refund:{order_id}"), ctx))
    assert "refund window has passed" in refusal


# --- 6. "my key doesn't work" ---------------------------------------------------------------


async def test_a_bad_key_with_a_screenshot_is_replaced_at_once_within_the_rules(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    first = await dispatch(press(f"keys:{order_id}"), ctx)
    assert stocked[0] in html(first)
    clock.advance(hours=2)
    reasons = await dispatch(press(f"bad:{order_id}"), ctx)
    assert "Which key?" not in html(reasons)  # its only key: nothing to choose between
    assert [b.data.rsplit(":", 1)[1] for b in buttons(reasons) if b.data] == [
        "redeemed",
        "invalid",
        "region",
        "other",
    ]
    asked = await dispatch(press(buttons(reasons)[2].data or ""), ctx)  # wrong region
    assert "Send a screenshot" in html(asked) and button(asked, "bads:")
    screenshot = photo(BUYER)
    replaced = await dispatch(screenshot, ctx)
    assert "replaced at once" in seen_by(replaced, BUYER)
    shown = await dispatch(press(button(replaced, "keys:")), ctx)
    assert stocked[1] in html(shown) and stocked[0] not in html(shown)
    async with uow() as tx:
        [case] = await tx.cases.for_user(BUYER, 5)
        assert await tx.tickets.open_for_user(BUYER) is None  # no human was needed
    assert case.status is CaseStatus.REPLACED and case.screenshot == screenshot.file_id
    assert case.reason.value == "region"


async def test_a_bad_key_outside_the_rules_opens_a_case_ahead_of_general_questions(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await dispatch(text("人工", user_id=OTHER_BUYER), ctx)  # waiting first, a general question
    await dispatch(press(f"keys:{order_id}"), ctx)  # seen, and then found not to work
    clock.advance(hours=30)
    keys = await dispatch(press(f"bad:{order_id}"), ctx)
    reasons = keys  # its only key: "which key?" is skipped
    asked = await dispatch(press(button(reasons, "badr:")), ctx)
    reported = await dispatch(press(button(asked, "bads:")), ctx)
    assert isinstance(reported[0], AnswerButton)
    moved = await sent_later(ctx)  # places in the queue come through the outbox
    said = seen_by([*reported, *moved], BUYER)
    reported_on = f"Your report on order {await reference_of(ctx, order_id)} is in"
    assert reported_on in said and "number 1" in said  # ahead of the older question
    async with uow() as tx:
        queue = await tx.tickets.queued()
    assert [(t.user_id, t.priority) for t in queue] == [
        (BUYER, TicketPriority.BAD_KEY),
        (OTHER_BUYER, TicketPriority.GENERAL),
    ]
    assert "number 2" in seen_by(moved, OTHER_BUYER)  # their place, updated


async def test_an_agent_replaces_a_reported_key_from_the_context_card(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    clock.advance(hours=30)
    case_id = await report_bad_key_by_buttons(ctx, order_id)
    await dispatch(agent_says("/duty on"), ctx)
    card = await sent_later(ctx)
    decisions = [b.data for b in buttons(card) if b.data and b.data.startswith("agcase:")]
    assert decisions == [f"agcase:{case_id}:{d}" for d in ("replaced", "refunded", "declined")]
    reference = await reference_of(ctx, order_id)
    assert f"agref:{reference}" in [b.data for b in buttons(card)]
    done = await dispatch(press(decisions[0], AGENT), ctx)
    assert f"Order {reference}, bad key: replaced" in seen_by(done, AGENT)
    told = await sent_later(ctx)
    assert f"Order {reference}: the agent replaced your key" in seen_by(told, BUYER)
    shown = await dispatch(press(button(told, "keys:")), ctx)
    assert stocked[1] in html(shown) and stocked[0] not in html(shown)
    twice = await dispatch(press(decisions[1], AGENT), ctx)
    assert "replaced" in refused(twice)


async def test_an_agent_refunds_one_bad_key_of_a_two_key_order_to_the_wallet(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: RecordingRefunder,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await buy_and_pay(ctx, quantity=2)
    await sent_later(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    clock.advance(hours=30)
    case_id = await report_bad_key_by_buttons(ctx, order_id)
    await dispatch(agent_says("/duty on"), ctx)
    await sent_later(ctx)
    done = await dispatch(press(f"agcase:{case_id}:refunded", AGENT), ctx)
    reference = await reference_of(ctx, order_id)
    assert f"Order {reference}, bad key: refunded" in seen_by(done, AGENT)
    told = seen_by(await sent_later(ctx), BUYER)
    assert f"Order {reference}: the bad key was refunded." in told
    assert (
        refunder.refunded == []
    )  # a Stars refund cannot be partial: the key's price, to the wallet
    assert (await show_wallet(uow(), user_id=BUYER)).balance_minor == 4800
    async with uow() as tx:
        assert [e for e, _, _ in await tx.card_keys.history(1)][-1] == "bad"  # never resold
        assert await tx.card_keys.count_available("STEAM-50") == 1


async def test_an_agent_declines_a_case_with_a_reason_the_buyer_reads(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    clock.advance(hours=30)
    case_id = await report_bad_key_by_buttons(ctx, order_id, reason="redeemed")
    await dispatch(agent_says("/duty on"), ctx)
    await sent_later(ctx)
    asked = await dispatch(press(f"agcase:{case_id}:declined", AGENT), ctx)
    assert "Type the reason" in seen_by(asked, AGENT) and BUYER not in chats(asked)
    reason = await dispatch(agent_says("The key was redeemed on your account <yesterday>"), ctx)
    reference = await reference_of(ctx, order_id)
    assert f"Order {reference}, bad key: declined" in seen_by(reason, AGENT)
    assert BUYER not in chats(reason)  # the reason reaches the buyer as the case's outcome
    told = await sent_later(ctx)
    assert seen_by(told, BUYER) == (
        f"Order {reference}: your report was declined: "
        "The key was redeemed on your account &lt;yesterday&gt;"
    )
    async with uow() as tx:
        case = await tx.cases.get(case_id)
    assert case is not None and case.status is CaseStatus.DECLINED
    after = await dispatch(agent_says("anything else?"), ctx)  # the flow is over: replies relay
    assert seen_by(after, BUYER) == "👩‍💼 Agent 01: anything else?"


# --- 7. response targets and figures --------------------------------------------------------


async def test_a_missed_first_response_is_alerted_once_to_agents_on_duty_and_admins(
    ctx: ShopContext, clock: FakeClock
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    clock.advance(minutes=4)
    assert await check_response_targets(ctx.uow(), now=clock.now(), rules=ctx.support) == []
    clock.advance(minutes=2)
    [(late, target)] = await check_response_targets(ctx.uow(), now=clock.now(), rules=ctx.support)
    assert late.id == ticket_id and target == "first"
    alerts = await sent_later(ctx)
    assert chats(alerts) == {AGENT, ADMIN} and BUYER not in chats(alerts)
    assert f"Ticket #{ticket_id} missed its first response target" in seen_by(alerts, ADMIN)
    clock.advance(minutes=1)
    assert await check_response_targets(ctx.uow(), now=clock.now(), rules=ctx.support) == []
    assert await sent_later(ctx) == []


async def test_a_buyer_left_waiting_after_the_first_reply_breaches_the_next_response_target(
    ctx: ShopContext, clock: FakeClock
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    await dispatch(agent_says("Hi!"), ctx)
    clock.advance(minutes=1)
    await dispatch(text("my key says invalid"), ctx)
    clock.advance(minutes=9)
    await dispatch(text("hello??"), ctx)  # writing again does not restart the clock
    clock.advance(minutes=1, seconds=1)
    [(_, target)] = await check_response_targets(ctx.uow(), now=clock.now(), rules=ctx.support)
    assert target == "next"
    alerts = await sent_later(ctx)
    assert f"Ticket #{ticket_id} missed its next response target" in seen_by(alerts, AGENT)


async def test_stats_show_tickets_containment_response_times_breaches_and_csat(
    ctx: ShopContext, clock: FakeClock
) -> None:
    await dispatch(text("how do i get a refund", user_id=3001), ctx)  # settled by the bot
    await dispatch(text("what payment methods do you accept", user_id=3002), ctx)
    await dispatch(text("how long does delivery take", user_id=3003), ctx)
    ticket_id = await open_ticket_with_agent(ctx)  # "人工": the fourth question, escalated
    clock.advance(minutes=6)
    await check_response_targets(ctx.uow(), now=clock.now(), rules=ctx.support)
    await dispatch(agent_says("Hi, how can I help?"), ctx)
    await dispatch(agent_says("/close"), ctx)
    await dispatch(press(f"rate:{ticket_id}:4"), ctx)
    report = seen_by(await dispatch(text("/stats", user_id=ADMIN), ctx), ADMIN)
    assert "Tickets: 1" in report
    assert "Questions: 4 (containment 75%)" in report
    assert "median 6.0 min, p90 6.0 min" in report
    assert "Breaches: 1" in report
    assert "CSAT: 100% (1 ratings, average 4.0)" in report


async def test_stats_are_for_admins_only(ctx: ShopContext) -> None:
    assert "admins only" in refused(await dispatch(text("/stats"), ctx))
    assert "admins only" in refused(await dispatch(agent_says("/stats"), ctx))


# --- 8. forged and odd input ----------------------------------------------------------------


async def test_a_buyer_pressing_agent_buttons_or_commands_is_refused_and_nothing_changes(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: RecordingRefunder,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx, user_id=OTHER_BUYER)
    clock.advance(hours=30)
    case_id = await report_bad_key_by_buttons(ctx, order_id, OTHER_BUYER)
    for forged in (f"agref:{order_id}", f"agcase:{case_id}:refunded", "agt:1"):
        assert refused(await dispatch(press(forged), ctx)) == "This command is for agents only."
    for command in ("/next", "/duty on", "/close", "/transfer queue", "/note hi", "/reply x"):
        assert refused(await dispatch(text(command), ctx)) == "This command is for agents only."
    async with uow() as tx:
        order = await tx.orders.get(order_id)
        case = await tx.cases.get(case_id)
        ticket = await tx.tickets.open_for_user(OTHER_BUYER)
    assert order is not None and order.status is OrderStatus.DELIVERED
    assert case is not None and case.status is CaseStatus.OPEN
    assert ticket is not None and ticket.status is TicketStatus.QUEUED
    assert refunder.refunded == []


async def test_an_agent_may_refund_only_the_buyer_whose_ticket_they_hold(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: RecordingRefunder,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    mine = await delivered_order(ctx)
    theirs = await delivered_order(ctx, user_id=OTHER_BUYER)
    await open_ticket_with_agent(ctx)
    refusal = refused(await dispatch(press(f"agref:{theirs}", AGENT), ctx))
    assert refusal == "That order is not yours."
    await dispatch(press(f"agref:{mine}", AGENT), ctx)  # asks to confirm
    done = await dispatch(press(f"agrefok:{mine}:7", AGENT), ctx)
    reference = await reference_of(ctx, mine)
    assert isinstance(done[0], AnswerButton) and done[0].text == f"Order {reference} refunded."
    assert f"Order {reference} refunded:" in seen_by(done, BUYER)
    async with uow() as tx:
        untouched = await tx.orders.get(theirs)
    assert untouched is not None and untouched.status is OrderStatus.DELIVERED
    assert [user for user, _ in refunder.refunded] == [BUYER]


async def test_a_buyer_cannot_rate_someone_elses_conversation(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    await dispatch(agent_says("/close"), ctx)
    assert refused(await dispatch(press(f"rate:{ticket_id}:1", OTHER_BUYER), ctx))
    async with uow() as tx:
        ticket = await tx.tickets.get(ticket_id)
    assert ticket is not None and ticket.rating is None


async def test_a_buyer_cannot_report_a_key_of_someone_elses_order(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    assert refused(await dispatch(press(f"bad:{order_id}", OTHER_BUYER), ctx))
    assert refused(await dispatch(press(f"bads:{order_id}:1:invalid", OTHER_BUYER), ctx))
    async with uow() as tx:
        assert await tx.cases.for_user(OTHER_BUYER, 5) == []
        assert await tx.cases.for_user(BUYER, 5) == []


async def test_english_is_offered_and_chosen_in_the_language_menu(ctx: ShopContext) -> None:
    menu = await dispatch(text("/language", language_code="zh-hans"), ctx)
    assert [b.data for b in buttons(menu)] == ["lang:zh", "lang:zh-hant", "lang:en"]
    assert [b.text for b in buttons(menu)] == ["简体中文", "繁體中文", "English"]
    await dispatch(press("lang:en", language_code="zh-hans"), ctx)
    assert "welcome" in html(await dispatch(text("/start", language_code="zh-hans"), ctx))


async def test_traditional_chinese_is_chosen_in_the_language_menu(ctx: ShopContext) -> None:
    chosen = await dispatch(press("lang:zh-hant", language_code="en"), ctx)
    assert "已切換為繁體中文" in html(chosen)
    assert "歡迎來到" in html(await dispatch(text("/start", language_code="en"), ctx))


async def test_a_forged_language_is_refused_and_changes_nothing(ctx: ShopContext) -> None:
    assert refused(await dispatch(press("lang:zh-tw", language_code="en"), ctx))
    assert "welcome" in html(await dispatch(text("/start", language_code="en"), ctx))


# --- found while testing --------------------------------------------------------------------


async def test_a_buyer_taken_at_once_is_told_once_who_is_with_them(ctx: ShopContext) -> None:
    await dispatch(agent_says("/duty on"), ctx)
    asked = await dispatch(text("人工"), ctx)
    later = await sent_later(ctx)
    told = seen_by(asked, BUYER) + seen_by(later, BUYER)
    assert told.count("Agent 01 is with you") == 1
    assert "Ticket #1" in seen_by(later, AGENT)


async def test_a_bad_key_report_while_talking_to_an_agent_reaches_that_agent(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    ticket_id = await open_ticket_with_agent(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    clock.advance(hours=30)
    keys = await dispatch(press(f"bad:{order_id}"), ctx)
    reasons = keys  # its only key: "which key?" is skipped
    asked = await dispatch(press(button(reasons, "badr:")), ctx)
    reported = await dispatch(press(button(asked, "bads:")), ctx)
    reference = await reference_of(ctx, order_id)
    assert f"Your report on order {reference} is in" in seen_by(reported, BUYER)
    fresh = await sent_later(ctx)  # the agent's fresh card comes through the outbox
    card = seen_by(fresh, AGENT)
    assert f"Ticket #{ticket_id}</b> · order {reference}" in card and "bad-key case" in card
    assert f"Bad key, order {reference}" in card
    assert "agcase:1:replaced" in [b.data for b in buttons(fresh)]


async def test_messages_to_a_buyer_keep_their_language_after_a_restart(ctx: ShopContext) -> None:
    await dispatch(text("/start", language_code="zh-hans"), ctx)
    await open_ticket_with_agent(ctx)
    restarted = replace(ctx, languages=LanguageMemory())  # nothing remembered in memory
    replied = await dispatch(agent_says("你好"), restarted)
    assert seen_by(replied, BUYER) == "👩‍💼 客服 01：你好"
    closed = await dispatch(agent_says("/close"), restarted)
    assert "请为客服 01 的服务打分" in seen_by(closed, BUYER)


async def test_an_agent_who_never_came_on_duty_is_told_how_to_take_tickets(
    ctx: ShopContext,
) -> None:
    await dispatch(text("人工"), ctx)
    pulled = await dispatch(agent_says("/next"), ctx)
    assert seen_by(pulled, AGENT) == "Come on duty first: /duty on"


async def test_a_reply_is_in_the_language_of_the_question_buttons_included(
    ctx: ShopContext,
) -> None:
    fallback = await dispatch(text("随便说点什么吧哈哈嘿嘿"), ctx)  # an English user, in Chinese
    assert "没太明白" in html(fallback)
    assert [b.text for b in buttons(fallback)] == ["🙋 转人工", "❓ 帮助"]


async def test_a_message_of_the_longest_size_still_fits_once_relayed_with_its_header(
    ctx: ShopContext,
) -> None:
    await open_ticket_with_agent(ctx)
    longest = "<" * 4096  # Telegram's own limit, and every character escaped
    to_agent = await dispatch(text(longest), ctx)
    [relayed] = [a for a in to_agent if isinstance(a, SendText)]
    assert relayed.html.startswith("🎫 #1 · Li: &lt;") and len(visible(relayed.html)) <= 4096
    to_buyer = await dispatch(agent_says("&" * 4096), ctx)
    [reply] = [a for a in to_buyer if isinstance(a, SendText)]
    assert reply.html.endswith("&amp;…") and len(visible(reply.html)) <= 4096


def telegram_length(markup: str) -> int:
    """Telegram's count of a text once its HTML is parsed (raising, as it does, if it can't be)."""
    return utf16_len(parse_html(markup).text)


async def test_the_longest_messages_from_people_with_the_longest_names_fit_once_relayed(
    ctx: ShopContext,
) -> None:
    long_name = "😀" * 64  # Telegram's longest first name, in characters that count twice
    ticket_id = await open_ticket_with_agent(ctx)
    buyer = Person(BUYER, BUYER, long_name, "en")
    [to_agent] = await dispatch(TextMessage(buyer, "&" * 4096, next(_message_ids)), ctx)
    assert isinstance(to_agent, SendText) and telegram_length(to_agent.html) <= 4096
    assert to_agent.html.startswith(f"🎫 #{ticket_id} · 😀") and to_agent.html.endswith("&amp;…")
    caption = PhotoMessage(buyer, next(_message_ids), "f", "😀" * 1024)
    [copied] = await dispatch(caption, ctx)
    assert isinstance(copied, CopyMessage) and copied.caption_html is not None
    assert telegram_length(copied.caption_html) <= 1024
    [to_buyer] = await dispatch(agent_says("<" * 4096, name=long_name), ctx)
    assert isinstance(to_buyer, SendText) and telegram_length(to_buyer.html) <= 4096
    [voice] = await dispatch(other(AGENT, "voice", caption="😀" * 1024, name=long_name), ctx)
    assert isinstance(voice, CopyMessage) and voice.caption_html is not None
    assert telegram_length(voice.caption_html) <= 1024


async def test_a_context_card_with_every_field_at_its_longest_fits_one_message(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    longest = "&" * 64  # a product name as long as the catalog allows, all escaped
    await stocked_shop(uow, cipher, clock, stock=40, name_en=longest, order_limit=20)
    for _ in range(8):
        await buy_and_pay(ctx, quantity=1)
    await sent_later(ctx)
    for _ in range(6):  # earlier tickets, each with a long subject
        await dispatch(text("人工 " + "<" * 4000), ctx)
        await dispatch(agent_says("/duty on"), ctx)
        await sent_later(ctx)
        await dispatch(agent_says("/close"), ctx)
        await dispatch(agent_says("/duty off"), ctx)
    await dispatch(text("人工 " + "<" * 4000), ctx)
    await dispatch(agent_says("/duty on"), ctx)
    [card] = [a for a in await sent_later(ctx) if isinstance(a, SendText) and "Ticket #" in a.html]
    assert card.chat_id == AGENT and telegram_length(card.html) <= 4096
    assert card.html.count(escape(longest)) == 5  # the five most recent orders


async def test_a_long_photo_caption_is_shortened_without_breaking_its_html(
    ctx: ShopContext,
) -> None:
    await open_ticket_with_agent(ctx)
    [copied] = await dispatch(photo(BUYER, caption="&" * 1024), ctx)
    assert isinstance(copied, CopyMessage) and copied.caption_html is not None
    assert len(visible(copied.caption_html)) <= 1024
    assert escape(visible(copied.caption_html)) == copied.caption_html  # no entity cut in half
    [back] = await dispatch(photo(AGENT, caption="<" * 1024, name="Mei"), ctx)
    assert isinstance(back, CopyMessage) and back.caption_html is not None
    assert len(visible(back.caption_html)) <= 1024
    assert escape(visible(back.caption_html)) == back.caption_html


async def test_an_agent_with_two_conversations_chooses_which_one_replies_go_to(
    ctx: ShopContext,
) -> None:
    first = await open_ticket_with_agent(ctx)
    second = await open_ticket_with_agent(ctx, buyer=OTHER_BUYER)
    listed = await dispatch(agent_says("/tickets"), ctx)
    assert [b.data for b in buttons(listed)] == [f"agt:{first}", f"agt:{second}"]
    assert buttons(listed)[0].text.startswith("▶️")
    written = await dispatch(text("it's me, the second buyer", user_id=OTHER_BUYER), ctx)
    focus = button(written, "agt:")
    assert focus == f"agt:{second}"
    assert "Now replying to" in popup(await dispatch(press(focus, AGENT), ctx))
    replied = await dispatch(agent_says("hello second"), ctx)
    assert chats(replied) == {OTHER_BUYER}
    closed = await dispatch(agent_says("/close"), ctx)
    assert f"Ticket #{second} closed" in seen_by(closed, AGENT) and OTHER_BUYER in chats(closed)
    back = await dispatch(agent_says("hello first"), ctx)
    assert chats(back) == {BUYER}


async def test_an_agent_who_never_came_on_duty_is_told_to_first(ctx: ShopContext) -> None:
    for command in ("/close", "/transfer queue", "/note hello"):
        reply = await dispatch(agent_says(command), ctx)
        assert seen_by(reply, AGENT) == "Come on duty first: /duty on"


async def test_cancel_leaves_a_step_so_the_next_text_is_not_taken_for_it(ctx: ShopContext) -> None:
    from store.domain.flow import DecliningCase
    from store.services.conversation_state import current_flow, enter_flow

    await enter_flow(ctx.uow(), user_id=AGENT, flow=DecliningCase(1), now=ctx.clock.now())
    assert "Cancelled" in seen_by(await dispatch(agent_says("/cancel"), ctx), AGENT)
    assert await current_flow(ctx.uow(), user_id=AGENT) is None


# --- 9. what people type is sealed at rest --------------------------------------------------

PASTED_KEY = "ZQ7K-44PL-XW9R-M2TT"
PASTED_EMAIL = "li.wei.private@example.org"


async def rows_holding(uow: UnitOfWorkFactory, *needles: str) -> list[str]:
    """Every `table.column` of any row, in any table, whose raw stored value holds a needle."""
    from sqlalchemy import select

    from store.adapters.tables import metadata

    found: list[str] = []
    async with uow.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in await connection.execute(select(table)):
                for column, value in row._mapping.items():
                    if any(needle in str(value) for needle in needles):
                        found.append(f"{table.name}.{column}")
    return found


async def test_keys_and_e_mails_typed_into_support_are_stored_only_sealed_yet_read_by_both(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    question = f"my key {PASTED_KEY} for {PASTED_EMAIL} does not work"
    answered = await dispatch(text(question), ctx)  # recorded as a question first
    human = next(b.data for b in buttons(answered) if b.data and b.data.startswith("human:"))
    await dispatch(press(human), ctx)  # the ticket starts with the recorded question
    await dispatch(agent_says("/duty on"), ctx)
    card = seen_by(await sent_later(ctx), AGENT)
    assert escape(question) in card

    relayed = await dispatch(text(f"write to {PASTED_EMAIL}, key {PASTED_KEY}"), ctx)
    assert f"write to {PASTED_EMAIL}, key {PASTED_KEY}" in seen_by(relayed, AGENT)
    replied = await dispatch(agent_says(f"is it {PASTED_KEY}? I wrote to {PASTED_EMAIL}"), ctx)
    assert f"is it {PASTED_KEY}? I wrote to {PASTED_EMAIL}" in seen_by(replied, BUYER)
    await dispatch(agent_says(f"/note {PASTED_EMAIL} asked before"), ctx)
    listed = await dispatch(agent_says("/tickets"), ctx)
    assert PASTED_KEY[:4] in " ".join(b.text for b in buttons(listed))  # the subject, opened

    clock.advance(hours=30)  # too late to replace by rule: the case goes to the agent
    case_id = await report_bad_key_by_buttons(ctx, order_id, reason="redeemed")
    await sent_later(ctx)
    await dispatch(press(f"agcase:{case_id}:declined", AGENT), ctx)
    await dispatch(agent_says(f"{PASTED_KEY} was redeemed by {PASTED_EMAIL}"), ctx)
    told = await sent_later(ctx)
    assert seen_by(told, BUYER) == (
        f"Order {await reference_of(ctx, order_id)}: your report was declined: "
        f"{PASTED_KEY} was redeemed by {PASTED_EMAIL}"
    )

    assert await rows_holding(uow, PASTED_KEY, PASTED_EMAIL) == []
