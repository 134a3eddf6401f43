"""Free text goes to the FAQ matcher: an answer at once, a "did you mean", or a person."""

from __future__ import annotations

from faq.answer import render_answer
from faq.knowledge import Entry
from faq.matcher import HUMAN_AGENT
from faq.normalise import traditional, written_in_traditional
from handlers.action import TEXT_LIMIT, Action, AnswerButton, Button, Keyboard
from handlers.callback import ForgedCallback, encode
from handlers.context import ShopContext
from handlers.event import ButtonPress, TextMessage
from handlers.handoff import handoff_reply
from handlers.keyboard import home_row, rows
from handlers.screen import acknowledged, notify, show, spent
from handlers.text import N_, Markup, escape, say, say_plain, shorten
from store.domain.model import Language
from store.services.question import (
    choose_suggestion,
    escalate_question,
    record_feedback,
    record_question,
)
from store.services.queue import ask_for_human

MAX_QUESTION = 500


ACTION_TEXTS: dict[str, str] = {
    "request_refund": N_("faq.action.request_refund"),
    "report_bad_key": N_("faq.action.report_bad_key"),
    "my_orders": N_("faq.action.my_orders"),
    "refund_status": N_("faq.action.refund_status"),
    "shop": N_("faq.action.shop"),
    "wallet": N_("faq.action.wallet"),
    "human_agent": N_("faq.action.human_agent"),
}
"""The label of each button an answer may carry (faq.knowledge.ACTIONS)."""


def action_button(lang: Language, action: str, question_id: int) -> Button:
    """The button for one of the actions an answer may carry (faq.knowledge.ACTIONS)."""
    label = say_plain(lang, ACTION_TEXTS[action])
    match action:
        case "request_refund":
            return Button(label, encode("refunds"))
        case "report_bad_key":
            return Button(label, encode("bad", 0))
        case "my_orders" | "refund_status":
            return Button(label, encode("orders", 0))
        case "shop":
            return Button(label, encode("shop"))
        case "wallet":
            return Button(label, encode("wallet"))
        case "human_agent":  # the same handoff as "Talk to a human"
            return Button(label, encode("human", question_id))
    raise ValueError(f"the knowledge base's action {action!r} has no button")


def _answer(
    lang: Language, ctx: ShopContext, entry_id: str, question_id: int
) -> tuple[Markup, Keyboard]:
    """An entry's answer (escaped) with 👍 / Talk to a human and the entry's own actions."""
    assert ctx.knowledge is not None
    entry = ctx.knowledge.entry(entry_id)
    text = render_answer(entry, lang.value, ctx.faq_values(lang))
    first = (
        Button(say_plain(lang, "faq.solved"), encode("faqok", question_id)),
        action_button(lang, HUMAN_AGENT, question_id),
    )
    # every answer offers a person in its first row, so a human_agent action is already there
    extra = [action_button(lang, a, question_id) for a in entry.actions if a != HUMAN_AGENT]
    return escape(shorten(text, TEXT_LIMIT)), (first, *rows(extra, 2))


def answer_language(reader: Language, asked_in: str, question: str) -> Language:
    """The language to answer in: the question's (the matcher tells Chinese from English), in
    the reader's own script when they read Chinese, else in the script the question was typed in."""
    if asked_in == Language.EN.value:
        return Language.EN
    if reader.chinese:
        return reader
    return Language.ZH_HANT if written_in_traditional(question) else Language.ZH


def suggestion(entry: Entry, lang: Language) -> str:
    """An entry's first question, as a "did you mean" button shows it to this reader."""
    if lang is Language.EN:
        return entry.questions["en"][0]
    first = entry.questions["zh"][0]
    return traditional(first) if lang is Language.ZH_HANT else first


async def on_question(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """The matcher answers, suggests three entries, offers a person, or fetches one at once."""
    assert ctx.faq is not None and ctx.knowledge is not None, "the router asks only with an FAQ"
    text = event.text[:MAX_QUESTION]
    match = ctx.faq.match(text)
    answer_lang = answer_language(lang, match.language, text)
    if match.action == "escalate":
        handoff = await escalate_question(
            ctx.uow(),
            user_id=event.person.user_id,
            first_name=event.person.first_name,
            language=match.language,
            score=match.score,
            text=text,
            now=ctx.clock.now(),
            cipher=ctx.cipher,
        )
        return handoff_reply(event, lang, handoff)
    question_id = await record_question(
        ctx.uow(),
        user_id=event.person.user_id,
        language=match.language,
        action=match.action,
        entry_id=match.entry_id,
        score=match.score,
        now=ctx.clock.now(),
        text=text,
        cipher=ctx.cipher,
    )
    if match.action == "answer" and match.entry_id is not None:
        body, keyboard = _answer(answer_lang, ctx, match.entry_id, question_id)
        return show(event, body, keyboard)
    if match.action == "suggest":
        choices = [
            (
                Button(
                    suggestion(ctx.knowledge.entry(entry_id), answer_lang)[:60],
                    encode("faq", entry_id, question_id),
                ),
            )
            for entry_id in match.suggestions
        ]
        none_of_these = say_plain(answer_lang, "faq.none_of_these")
        choices.append((Button(none_of_these, encode("human", question_id)),))
        return show(event, say(answer_lang, "faq.did_you_mean"), tuple(choices))
    keyboard = (
        (
            action_button(answer_lang, HUMAN_AGENT, question_id),
            Button(say_plain(answer_lang, "menu.help"), encode("help")),
        ),
    )
    return show(event, say(answer_lang, "faq.fallback"), keyboard)


async def on_faq_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, entry_id: str, question_id: int
) -> list[Action]:
    """A "did you mean" choice: that entry's answer, settling the same question; the entry
    for asking for a person fetches one, as the matcher does when it is matched."""
    if ctx.knowledge is None or entry_id not in ctx.knowledge:
        raise ForgedCallback(entry_id)
    if entry_id == HUMAN_AGENT:
        return await on_human_pressed(event, lang, ctx, question_id)
    await choose_suggestion(
        ctx.uow(), user_id=event.person.user_id, question_id=question_id, entry_id=entry_id
    )
    body, keyboard = _answer(lang, ctx, entry_id, question_id)
    return notify(event, body, (*keyboard, home_row(lang)))


async def on_solved_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, question_id: int
) -> list[Action]:
    """👍: the answer helped (stored, to show which entries work)."""
    await record_feedback(
        ctx.uow(), user_id=event.person.user_id, question_id=question_id, helpful=True
    )
    return spent(event, [AnswerButton(event.callback_id, say_plain(lang, "faq.thanks"))])


async def on_human_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, question_id: int
) -> list[Action]:
    """ "Talk to a human" under an answer or a fallback: the answer did not help, and the
    question asked starts the ticket."""
    handoff = await ask_for_human(
        ctx.uow(),
        user_id=event.person.user_id,
        first_name=event.person.first_name,
        now=ctx.clock.now(),
        cipher=ctx.cipher,
        question_id=question_id or None,
    )
    return acknowledged(event, handoff_reply(event, lang, handoff))
