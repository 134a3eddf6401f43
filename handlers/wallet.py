"""The wallet: balance, recent ledger entries, and top-ups with Stars."""

from __future__ import annotations

from handlers.action import Action
from handlers.context import ShopContext
from handlers.event import ButtonPress, TextMessage
from handlers.screen import show
from handlers.wallet_screen import wallet_screen
from store.domain.model import Language
from store.services.wallet import show_wallet


async def cmd_wallet(
    event: TextMessage | ButtonPress, lang: Language, ctx: ShopContext
) -> list[Action]:
    """Balance, the last ledger entries, and top-up buttons."""
    wallet = await show_wallet(ctx.uow(), user_id=event.person.user_id)
    return show(event, *wallet_screen(lang, wallet, ctx))
