"""Support is findable, and agents and admins get their own command menus."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faq.knowledge import KnowledgeBase
from faq.matcher import FaqMatcher
from handlers.action import SetCommands
from handlers.command_menu import command_list, role_commands, staff_commands
from handlers.context import ShopContext
from handlers.router import dispatch
from handlers.start import DESCRIPTION_LIMIT, SHORT_DESCRIPTION_LIMIT, bot_profile
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import Language
from tests.conversation.conftest import ADMIN, AGENT
from tests.conversation.test_shop_flow import buttons, html
from tests.conversation.test_support_flow import seen_by, sent_later
from tests.factories import press, text

BUYER = 1001
AGENT_COMMANDS = ["duty", "next", "tickets", "reply", "note", "transfer", "close", "alias"]


@pytest.fixture
def ctx(ctx: ShopContext, knowledge: KnowledgeBase, faq: FaqMatcher) -> ShopContext:
    return replace(ctx, knowledge=knowledge, faq=faq)


async def test_the_main_menu_offers_contact_support_in_the_buyers_language(
    ctx: ShopContext,
) -> None:
    zh = await dispatch(text("/start", language_code="zh-hans"), ctx)
    en = await dispatch(text("/start", user_id=2002), ctx)
    assert [(b.text, b.data) for b in buttons(zh)][-1] == ("🙋 联系客服", "human:0")
    assert [(b.text, b.data) for b in buttons(en)][-1] == ("🙋 Contact support", "human:0")


async def test_contact_support_in_the_menu_fetches_a_person(ctx: ShopContext) -> None:
    await dispatch(text("/start"), ctx)
    pressed = [*await dispatch(press("human:0"), ctx), *await sent_later(ctx)]
    assert "Nobody is on duty right now" in seen_by(pressed, BUYER)  # in the queue for a person


async def test_the_welcome_and_help_say_to_type_a_question_or_send_rengong(
    ctx: ShopContext,
) -> None:
    welcome = html(await dispatch(text("/start", language_code="zh-hans"), ctx))
    helped = html(await dispatch(text("/help", user_id=2002), ctx))
    assert "直接发消息提问，或发送“人工”" in welcome
    assert "Just type your question, or send 人工" in helped


async def test_paysupport_offers_the_built_in_handoff_as_well_as_the_contact(
    ctx: ShopContext,
) -> None:
    answered = await dispatch(text("/paysupport"), ctx)
    assert "@kamibot_support" in html(answered)
    assert "human:0" in [b.data for b in buttons(answered)]


@pytest.mark.parametrize("language", list(Language))
def test_the_bots_descriptions_fit_telegrams_limits_in_each_language(language: Language) -> None:
    description, short = bot_profile(language, "Kamibot")
    assert "Kamibot" in description and "Kamibot" in short
    assert len(description) <= DESCRIPTION_LIMIT and len(short) <= SHORT_DESCRIPTION_LIMIT
    assert ("人工" if language.chinese else "human") in description


def test_a_buyer_menu_has_no_staff_commands_and_an_admins_has_all() -> None:
    buyer = [name for name, _ in command_list(Language.EN)]
    admin = [name for name, _ in command_list(Language.ZH, admin=True)]
    assert not set(buyer) & {*AGENT_COMMANDS, "stock", "stats", "import"}
    assert admin[len(buyer) :] == [*AGENT_COMMANDS, "stock", "stats", "import"]


def test_an_agent_gets_their_own_commands_for_their_chat_in_their_language(
    ctx: ShopContext,
) -> None:
    [menu] = role_commands(ctx, AGENT, Language.ZH)
    assert isinstance(menu, SetCommands) and menu.chat_id == AGENT
    assert menu.language_code is None  # a chat's own list outranks the per-language defaults
    described = dict(menu.commands)
    assert [*described][-len(AGENT_COMMANDS) :] == AGENT_COMMANDS and "stock" not in described
    assert described["next"] == "接入下一位买家"
    assert role_commands(ctx, BUYER, Language.EN) == []


async def test_staff_menus_at_start_up_use_the_language_each_chose(
    ctx: ShopContext, uow: UnitOfWorkFactory
) -> None:
    await dispatch(text("/start", user_id=ADMIN, language_code="zh-hans"), ctx)
    actions = await staff_commands(ctx)
    menus = {m.chat_id: dict(m.commands) for m in actions if isinstance(m, SetCommands)}
    assert set(menus) == {ADMIN, AGENT, 901}
    assert menus[ADMIN]["stock"] == "库存" and menus[AGENT]["next"] == "Take the next buyer"
    assert "stock" not in menus[AGENT]


async def test_coming_on_duty_sets_the_agents_command_menu(ctx: ShopContext) -> None:
    replies = await dispatch(text("/duty on", user_id=AGENT), ctx)
    [menu] = [r for r in replies if isinstance(r, SetCommands)]
    assert menu.chat_id == AGENT and "duty" in dict(menu.commands)


async def test_help_lists_commands_by_role(ctx: ShopContext) -> None:
    buyer = html(await dispatch(text("/help"), ctx))
    agent = html(await dispatch(text("/help", user_id=AGENT), ctx))
    admin = html(await dispatch(text("/help", user_id=ADMIN), ctx))
    assert "Agent commands" not in buyer and "Admin commands" not in buyer
    assert "Agent commands" in agent and "/alias" in agent and "Admin commands" not in agent
    assert "Agent commands" in admin and "Admin commands" in admin and "/stock" in admin
