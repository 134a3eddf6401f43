"""An admin's wallet credit (`wallet credit`): a buyer who uses the bot is told in chat."""

from __future__ import annotations

import pytest

from handlers.action import SendText
from handlers.context import ShopContext
from handlers.router import dispatch
from store.services.wallet import credit_wallet
from tests.conftest import FakeClock
from tests.conversation.test_support_flow import sent_later
from tests.factories import text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


async def credit(ctx: ShopContext, clock: FakeClock, user_id: int, key: str = "TX-1") -> None:
    await credit_wallet(
        ctx.uow(),
        user_id=user_id,
        amount_minor=2550,
        reason="bank transfer",
        idempotency_key=key,
        now=clock.now(),
        tell_buyer=True,
    )


async def test_a_buyer_whose_wallet_is_credited_is_told_in_their_language_once(
    ctx: ShopContext, clock: FakeClock
) -> None:
    await dispatch(text("/start", language_code="zh-hans"), ctx)
    await credit(ctx, clock, 1001)
    await credit(ctx, clock, 1001)  # the same transfer again: nothing new to tell
    [notice] = await sent_later(ctx)
    assert isinstance(notice, SendText) and notice.chat_id == 1001
    assert notice.html == "💰 店铺已为您的余额充值 ¥25.50，当前余额 ¥25.50。"
    assert [b.data for row in notice.keyboard or () for b in row] == ["wallet"]


async def test_a_credit_for_someone_who_never_used_the_bot_sends_nothing(
    ctx: ShopContext, clock: FakeClock
) -> None:
    await credit(ctx, clock, 4242)
    assert await sent_later(ctx) == []
