"""Free text goes to the FAQ matcher: an answer at once, a "did you mean", or a person."""

from __future__ import annotations

from faq.answer import render_answer
from handlers import start, support
from handlers.action import TEXT_LIMIT, Action, AnswerButton, Button, Keyboard
from handlers.callback import ForgedCallback, encode
from handlers.context import ShopContext
from handlers.event import ButtonPress, TextMessage
from handlers.keyboard import home_row
from handlers.screen import notify, show
from handlers.text import escape, say, shorten
from store.domain.model import Language
from store.services.question import (
    choose_suggestion,
    question_text,
    record_feedback,
    record_question,
)

ACTION_BUTTONS = {
    "request_refund": "refunds",
    "report_bad_key": "bad:0",
    "my_orders": "orders:0",
    "refund_status": "orders:0",
    "shop": "shop",
    "wallet": "wallet",
}
MAX_QUESTION = 500


def _answer(
    lang: Language, ctx: ShopContext, entry_id: str, question_id: int
) -> tuple[str, Keyboard]:
    """An entry's answer (escaped) with 👍 / Talk to a human and the entry's own actions."""
    assert ctx.knowledge is not None
    entry = ctx.knowledge.entry(entry_id)
    text = render_answer(entry, lang.value, ctx.faq_values())
    rows: list[tuple[Button, ...]] = [
        (
            Button(say(lang, "faq.solved"), encode("faqok", question_id)),
            Button(say(lang, "faq.human"), encode("human", question_id)),
        )
    ]
    extra = [
        Button(say(lang, f"faq.action.{action}"), ACTION_BUTTONS[action])
        for action in entry.actions
        if action in ACTION_BUTTONS
    ]
    if extra:
        rows.append(tuple(extra[:2]))
    return escape(shorten(text, TEXT_LIMIT)), tuple(rows)


async def on_question(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """The matcher answers, suggests three entries, offers a person, or fetches one at once."""
    if ctx.faq is None or ctx.knowledge is None:
        return await start.cmd_help(event, lang, ctx)
    text = event.text[:MAX_QUESTION]
    match = ctx.faq.match(text)
    answer_lang = Language(match.language)
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
    if match.action == "escalate":
        return await support.on_human_requested(event, lang, ctx, text)
    if match.action == "answer" and match.entry_id is not None:
        body, keyboard = _answer(answer_lang, ctx, match.entry_id, question_id)
        return show(event, body, keyboard)
    if match.action == "suggest":
        rows = [
            (
                Button(
                    ctx.knowledge.entry(entry_id).questions[answer_lang.value][0][:60],
                    encode("faq", entry_id, question_id),
                ),
            )
            for entry_id in match.suggestions
        ]
        rows.append((Button(say(answer_lang, "faq.none_of_these"), encode("human", question_id)),))
        return show(event, say(answer_lang, "faq.did_you_mean"), tuple(rows))
    keyboard = (
        (
            Button(say(answer_lang, "faq.human"), encode("human", question_id)),
            Button(say(answer_lang, "menu.help"), encode("help")),
        ),
    )
    return show(event, say(answer_lang, "faq.fallback"), keyboard)


async def on_faq_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, entry_id: str, question_id: int
) -> list[Action]:
    """A "did you mean" choice: that entry's answer, settling the same question."""
    if ctx.knowledge is None or entry_id not in ctx.knowledge:
        raise ForgedCallback(entry_id)
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
    return [AnswerButton(event.callback_id, say(lang, "faq.thanks"))]


async def on_human_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, question_id: int
) -> list[Action]:
    """ "Talk to a human" under an answer or a fallback: the answer did not help."""
    asked = ""
    if question_id:
        await record_feedback(
            ctx.uow(), user_id=event.person.user_id, question_id=question_id, helpful=False
        )
        asked = await question_text(
            ctx.uow(read_only=True),
            user_id=event.person.user_id,
            question_id=question_id,
            cipher=ctx.cipher,
        )
    return await support.on_human_requested(event, lang, ctx, asked)
