"""The command menus setMyCommands registers: a buyer's for everyone, an agent's and an
admin's for their own chats (chat scope), each in the reader's language."""

from __future__ import annotations

from handlers.action import Action, SetCommands
from handlers.context import ShopContext
from handlers.text import N_, say_plain
from store.domain.model import Language
from store.services.user import find_user

COMMANDS = (
    "start",
    "shop",
    "orders",
    "wallet",
    "trace",
    "help",
    "language",
    "paysupport",
    "terms",
)
COMMAND_DESCRIPTIONS: dict[str, str] = {
    "start": N_("command.start"),
    "shop": N_("command.shop"),
    "orders": N_("command.orders"),
    "wallet": N_("command.wallet"),
    "trace": N_("command.trace"),
    "help": N_("command.help"),
    "language": N_("command.language"),
    "paysupport": N_("command.paysupport"),
    "terms": N_("command.terms"),
    "duty": N_("command.duty"),
    "next": N_("command.next"),
    "tickets": N_("command.tickets"),
    "reply": N_("command.reply"),
    "note": N_("command.note"),
    "transfer": N_("command.transfer"),
    "close": N_("command.close"),
    "alias": N_("command.alias"),
    "stock": N_("command.stock"),
    "stats": N_("command.stats"),
    "import": N_("command.import"),
}
"""Each command's text key: its description in the menu, in the reader's language."""
AGENT_COMMANDS = ("duty", "next", "tickets", "reply", "note", "transfer", "close", "alias")
ADMIN_COMMANDS = ("stock", "stats", "import")


def command_list(
    language: Language, *, agent: bool = False, admin: bool = False
) -> list[tuple[str, str]]:
    """What setMyCommands registers, per language: a buyer's, plus an agent's and an admin's."""
    names = COMMANDS + (AGENT_COMMANDS if agent or admin else ())
    names += ADMIN_COMMANDS if admin else ()
    return [(name, say_plain(language, COMMAND_DESCRIPTIONS[name])) for name in names]


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
