"""What every handler may use: the unit of work, the clock and the rules (built by bot/app.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.language import LanguageMemory
from store.card_key_cipher import CardKeyCipher
from store.clock import Clock
from store.service.order import HoldRules
from store.service.payment import TopupRules
from store.service.refund import RefundRules, StarRefunder
from store.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class ShopContext:
    uow: UnitOfWorkFactory
    clock: Clock
    cipher: CardKeyCipher
    refunder: StarRefunder
    hold: HoldRules
    topup: TopupRules
    refund: RefundRules = field(default_factory=RefundRules)
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    shop_name: str = "Kamibot"
    currency: str = "CNY"
    support_contact: str = "@kamibot_support"
    languages: LanguageMemory = field(default_factory=LanguageMemory)

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids
