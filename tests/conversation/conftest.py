"""A shop context over a real SQLite database, for feeding events to the conversation."""

from __future__ import annotations

import pytest

from faq.knowledge import KnowledgeBase, load_knowledge_base
from faq.matcher import FaqMatcher
from handlers.context import ShopContext
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.case import ReplacementRules
from store.domain.order import HoldRules
from store.domain.payment import TopupRules
from store.domain.refund import RefundRules
from store.domain.support import SupportRules
from tests.conftest import FakeClock
from tests.factories import FakeRefunder

ADMIN = 42
AGENT = 900
OTHER_AGENT = 901


RecordingRefunder = FakeRefunder


@pytest.fixture
def refunder() -> FakeRefunder:
    return FakeRefunder()


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    """The shipped knowledge base, loaded once: it is read-only."""
    return load_knowledge_base()


@pytest.fixture(scope="session")
def faq(knowledge: KnowledgeBase) -> FaqMatcher:
    return FaqMatcher.from_knowledge_base(knowledge)


@pytest.fixture
def ctx(
    uow: UnitOfWorkFactory, clock: FakeClock, cipher: CardKeyCipher, refunder: RecordingRefunder
) -> ShopContext:
    """The shop with agents but no FAQ, so free text gets the help screen."""
    return ShopContext(
        uow=uow,
        clock=clock,
        cipher=cipher,
        refunder=refunder,
        hold=HoldRules(minutes=15, max_open=3),
        topup=TopupRules(star_value_minor=10, allowed_stars=(50, 100)),
        refund=RefundRules(window_days=7),
        admin_ids=frozenset({ADMIN}),
        agent_ids=frozenset({AGENT, OTHER_AGENT}),
        support=SupportRules(capacity=2, first_response_minutes=5, next_response_minutes=10),
        replacement=ReplacementRules(),
    )
