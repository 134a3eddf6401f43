"""A reader of Traditional Chinese (Taiwan, Hong Kong, overseas) gets the whole shop in it: the
menus, the catalog, the FAQ's answers and the agent's canned replies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faq.knowledge import KnowledgeBase
from faq.matcher import FaqMatcher
from handlers.context import ShopContext
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import buttons, html
from tests.factories import press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

TAIWAN = "zh-TW"


@pytest.fixture
def helped(ctx: ShopContext, knowledge: KnowledgeBase, faq: FaqMatcher) -> ShopContext:
    return replace(ctx, knowledge=knowledge, faq=faq)


async def test_a_taiwanese_app_opens_the_shop_in_traditional_chinese(ctx: ShopContext) -> None:
    start = await dispatch(text("/start", language_code=TAIWAN), ctx)
    assert "歡迎來到" in html(start)
    assert [b.text for b in buttons(start)][:3] == ["🛒 商城", "📦 我的訂單", "💰 餘額"]
    assert "联系" not in html(start) and "订单" not in " ".join(b.text for b in buttons(start))


async def test_a_product_the_operator_named_in_traditional_reads_so_and_one_not_is_converted(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3, name_zh_hant="Steam 錢包儲值卡 ¥50")
    card = await dispatch(press("prod:STEAM-50", language_code="zh-hk"), ctx)
    assert "Steam 錢包儲值卡 ¥50" in html(card)
    assert "打開 Steam 兌換" in html(card)  # the redeem text nobody wrote in Traditional
    assert "購買 ×2 · ¥96.00" in [b.text for b in buttons(card)]


async def test_a_question_typed_in_traditional_is_answered_in_traditional(
    helped: ShopContext,
) -> None:
    answered = html(await dispatch(text("怎麼退款？", language_code=TAIWAN), helped))
    assert "退款" in answered and "檢視" in answered and "查看" not in answered


async def test_choosing_traditional_chinese_outranks_the_apps_language(ctx: ShopContext) -> None:
    await dispatch(press("lang:zh-hant", language_code="en"), ctx)
    help_text = html(await dispatch(text("/help", language_code="en"), ctx))
    assert "如何購買" in help_text and "How to buy" not in help_text


async def test_a_question_typed_in_traditional_from_an_english_app_is_answered_in_traditional(
    helped: ShopContext,
) -> None:
    answered = html(await dispatch(text("怎麼退款？", language_code="en"), helped))
    assert "檢視" in answered and "查看" not in answered
    simplified = html(await dispatch(text("怎么退款？", user_id=2002, language_code="en"), helped))
    assert "查看" in simplified and "檢視" not in simplified


async def test_a_reader_of_simplified_gets_simplified_whatever_the_question_was_typed_in(
    helped: ShopContext,
) -> None:
    answered = html(await dispatch(text("怎麼退款？", language_code="zh-hans"), helped))
    assert "查看" in answered and "檢視" not in answered
