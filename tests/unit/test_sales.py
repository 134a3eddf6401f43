"""The shop's figures, on fakes: a day's sales read in one go, next to its support."""

from __future__ import annotations

from datetime import timedelta

from store.services.sales import shop_stats
from tests.conftest import FakeClock
from tests.factories import paid_order
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork


async def test_shop_stats_read_the_days_sales_and_support_without_writing(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await paid_order(db.unit_of_work, FakeCipher(), clock, quantity=2)
    uow = FakeUnitOfWork(db)
    stats = await shop_stats(uow, since=clock.now() - timedelta(hours=1))
    assert (stats.sales.orders, stats.sales.revenue_stars) == (1, 960)
    assert stats.support.tickets_today == 0
    assert set(uow.opened) == {"read"}
    later = await shop_stats(FakeUnitOfWork(db), since=clock.now() + timedelta(hours=1))
    assert later.sales.orders == 0
