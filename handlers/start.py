"""Welcome, help, language, and the pages Telegram requires of bots that take payments."""

from __future__ import annotations

from datetime import datetime

from handlers.action import Action
from handlers.context import ShopContext
from handlers.event import ButtonPress, TextMessage
from handlers.keyboard import home_row, language_choice, main_menu, support_button
from handlers.screen import show
from handlers.text import Markup, say, say_plain, shorten
from store.domain.model import Language
from store.services.user import choose_language

DESCRIPTION_LIMIT = 512
SHORT_DESCRIPTION_LIMIT = 120
"""Telegram's limits on setMyDescription and setMyShortDescription."""


def bot_profile(language: Language, shop_name: str) -> tuple[str, str]:
    """setMyDescription's and setMyShortDescription's texts: what an empty chat shows."""
    description = say_plain(language, "bot.description", shop=shop_name)
    short = say_plain(language, "bot.short_description", shop=shop_name)
    return shorten(description, DESCRIPTION_LIMIT), shorten(short, SHORT_DESCRIPTION_LIMIT)


async def cmd_start(
    event: TextMessage | ButtonPress, lang: Language, ctx: ShopContext
) -> list[Action]:
    """The welcome and the main menu."""
    text = say(lang, "welcome", name=event.person.first_name or "👋", shop=ctx.shop_name)
    return show(event, text, main_menu(lang))


async def cmd_help(
    event: TextMessage | ButtonPress, lang: Language, ctx: ShopContext
) -> list[Action]:
    """How buying works and the command list (and, for agents, theirs)."""
    text = say(lang, "help", minutes=ctx.hold.minutes)
    if ctx.is_agent(event.person.user_id):
        text = text + Markup("\n\n") + say(lang, "help.agent")
    if ctx.is_admin(event.person.user_id):
        text = text + Markup("\n\n") + say(lang, "help.admin")
    return show(event, text, (home_row(lang),))


async def cmd_language(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """A choice of 简体中文 / English."""
    return show(event, say(lang, "language.choose"), language_choice())


async def on_language_chosen(event: ButtonPress, chosen: str, ctx: ShopContext) -> list[Action]:
    """The language is remembered and the main menu redrawn in it."""
    language = Language(chosen)
    await choose_language(
        ctx.uow(),
        user_id=event.person.user_id,
        first_name=event.person.first_name,
        language=language,
        now=_now(ctx),
    )
    ctx.languages.remember(event.person.user_id, language)
    return show(
        event,
        say(language, "language.set")
        + "\n\n"
        + say(language, "welcome", name=event.person.first_name or "👋", shop=ctx.shop_name),
        main_menu(language),
    )


async def cmd_paysupport(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """Who to contact about a payment, as Telegram requires, and a person right here."""
    text = say(lang, "paysupport", contact=ctx.support_contact)
    return show(event, text, ((support_button(lang),), home_row(lang)))


async def cmd_terms(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """The shop's terms of service."""
    return show(event, say(lang, "terms"))


def _now(ctx: ShopContext) -> datetime:
    return ctx.clock.now()
