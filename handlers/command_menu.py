"""The command menus setMyCommands registers: a buyer's for everyone, an agent's and an
admin's for their own chats (chat scope), each in the reader's language."""

from __future__ import annotations

from handlers.action import Action, SetCommands
from handlers.context import ShopContext
from store.domain.model import Language
from store.services.user import find_user

COMMANDS = ("start", "shop", "orders", "wallet", "help", "language", "paysupport", "terms")
COMMAND_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "start": ("主菜单", "Main menu"),
    "shop": ("浏览商城", "Browse the shop"),
    "orders": ("我的订单", "My orders"),
    "wallet": ("余额与充值", "Wallet and top-up"),
    "help": ("帮助", "Help"),
    "language": ("切换语言", "Change language"),
    "paysupport": ("付款支持", "Payment support"),
    "terms": ("服务条款", "Terms of service"),
    # agents (and admins, who may act as agents)
    "duty": ("上线/下线：/duty on|off", "Go on or off duty: /duty on|off"),
    "next": ("接入下一位买家", "Take the next buyer"),
    "tickets": ("我的会话", "Your open tickets"),
    "reply": ("快捷回复：/reply FAQ编号", "Canned answer: /reply FAQ_ID"),
    "note": ("私人备注（买家看不到）", "Private note (the buyer never sees it)"),
    "transfer": ("转接：/transfer 客服ID|queue", "Transfer: /transfer AGENT_ID|queue"),
    "close": ("结束当前会话", "Close the current ticket"),
    "alias": ("设置对买家显示的客服名", "Set the name buyers see for you"),
    # admins
    "stock": ("库存", "Stock levels"),
    "stats": ("今日数据", "Today's figures"),
    "import": (
        "导入卡密：发送文件并附说明 /import SKU",
        "Import keys: send a file captioned /import SKU",
    ),
}
AGENT_COMMANDS = ("duty", "next", "tickets", "reply", "note", "transfer", "close", "alias")
ADMIN_COMMANDS = ("stock", "stats", "import")


def command_list(
    language: Language, *, agent: bool = False, admin: bool = False
) -> list[tuple[str, str]]:
    """What setMyCommands registers, per language: a buyer's, plus an agent's and an admin's."""
    index = 0 if language is Language.ZH else 1
    names = COMMANDS + (AGENT_COMMANDS if agent or admin else ())
    names += ADMIN_COMMANDS if admin else ()
    return [(name, COMMAND_DESCRIPTIONS[name][index]) for name in names]


def role_commands(ctx: ShopContext, user_id: int, language: Language) -> list[Action]:
    """An agent's or admin's own command menu (chat scope), in their language; none for a buyer.

    No language_code: a chat-scoped list without one outranks every per-language default.
    """
    if not ctx.is_agent(user_id):
        return []
    commands = command_list(language, agent=True, admin=ctx.is_admin(user_id))
    return [SetCommands(user_id, tuple(commands))]


async def staff_commands(ctx: ShopContext) -> list[Action]:
    """Every agent's and admin's command menu, each in the language they chose (English if none)."""
    actions: list[Action] = []
    for user_id in sorted(ctx.agent_ids | ctx.admin_ids):
        user = await find_user(ctx.uow(), user_id=user_id)
        language = user.language if user is not None and user.language else Language.EN
        actions += role_commands(ctx, user_id, language)
    return actions
