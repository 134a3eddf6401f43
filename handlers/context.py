"""What every handler may use: the unit of work, the clock and the rules (built by bot/app.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from faq.knowledge import KnowledgeBase
from faq.matcher import FaqMatcher
from handlers.language import LanguageMemory
from handlers.shop_time import hours_text
from store.domain.case import ReplacementRules
from store.domain.clock import Clock
from store.domain.ledger import EscrowRules
from store.domain.model import Language
from store.domain.order import HoldRules
from store.domain.payment import TopupRules
from store.domain.refund import RefundRules
from store.domain.shop_time import ShopTime
from store.domain.signed_note import Signer
from store.domain.support import SupportRules
from store.services.ports import KeyCipher, NewUnitOfWork
from store.services.refund import StarRefunder


@dataclass(frozen=True)
class ShopContext:
    uow: NewUnitOfWork
    clock: Clock
    cipher: KeyCipher
    refunder: StarRefunder
    hold: HoldRules
    topup: TopupRules
    refund: RefundRules = field(default_factory=RefundRules)
    escrow: EscrowRules = field(default_factory=EscrowRules)
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    shop_name: str = "Kamibot"
    currency: str = "CNY"
    support_contact: str = "@kamibot_support"
    languages: LanguageMemory = field(default_factory=LanguageMemory)
    agent_ids: frozenset[int] = field(default_factory=frozenset)
    support: SupportRules = field(default_factory=SupportRules)
    replacement: ReplacementRules = field(default_factory=ReplacementRules)
    shop_time: ShopTime = field(default_factory=ShopTime)
    knowledge: KnowledgeBase | None = None
    faq: FaqMatcher | None = None
    trace_signer: Signer | None = None
    """Signs the transparency log's checkpoints (TRACE_SIGNING_KEY); without it, no receipts."""
    trace_origin: str = ""
    """The log's origin line, naming the shop (TRACE_ORIGIN)."""

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids

    def is_agent(self, user_id: int) -> bool:
        return user_id in self.agent_ids or user_id in self.admin_ids

    def faq_values(self, lang: Language = Language.ZH) -> dict[str, str]:
        """What FAQ answers may mention, from the shop's settings, written for `lang`."""
        return {
            "shop_name": self.shop_name,
            "support_hours": hours_text(lang, self.shop_time),
            "refund_window_days": str(self.refund.window_days),
            "reservation_minutes": str(self.hold.minutes),
            "support_contact": self.support_contact,
            "first_response_minutes": str(self.support.first_response_minutes),
        }
