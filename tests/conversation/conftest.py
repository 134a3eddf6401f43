"""A shop context over a real SQLite database, for feeding events to the conversation."""

from __future__ import annotations

import pytest

from handlers.context import ShopContext
from store.card_key_cipher import CardKeyCipher
from store.service.order import HoldRules
from store.service.payment import TopupRules
from store.unit_of_work import UnitOfWorkFactory
from tests.conftest import FakeClock

ADMIN = 42


class RecordingRefunder:
    def __init__(self) -> None:
        self.refunded: list[tuple[int, str]] = []

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        self.refunded.append((user_id, charge_id))


@pytest.fixture
def refunder() -> RecordingRefunder:
    return RecordingRefunder()


@pytest.fixture
def ctx(
    uow: UnitOfWorkFactory, clock: FakeClock, cipher: CardKeyCipher, refunder: RecordingRefunder
) -> ShopContext:
    return ShopContext(
        uow=uow,
        clock=clock,
        cipher=cipher,
        refunder=refunder,
        hold=HoldRules(minutes=15, max_open=3),
        topup=TopupRules(star_value_minor=10, allowed_stars=(50, 100)),
        admin_ids=frozenset({ADMIN}),
    )
