"""A day's sales: orders paid, revenue by how it was paid, refunds and the top products."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.domain.model import OrderStatus, PaymentMethod
from store.domain.sales import sales_since, start_of_day
from store.domain.shop_time import ShopTime
from tests.factories import order

SINCE = datetime(2025, 1, 15, 0, 0, tzinfo=UTC)


def test_revenue_is_counted_by_how_each_order_was_paid() -> None:
    sales = sales_since(
        [
            order(id=1, payment_method=PaymentMethod.STARS, total_stars=480, total_minor=4800),
            order(id=2, payment_method=PaymentMethod.WALLET, total_stars=480, total_minor=4800),
        ],
        SINCE,
    )
    assert (sales.orders, sales.revenue_stars, sales.revenue_minor) == (2, 480, 4800)


def test_an_order_paid_before_the_day_counts_only_as_a_refund_made_in_it() -> None:
    yesterday = SINCE - timedelta(hours=3)
    refunded = order(
        status=OrderStatus.REFUNDED,
        payment_method=PaymentMethod.STARS,
        total_stars=480,
        paid_at=yesterday,
        refunded_at=SINCE + timedelta(hours=1),
    )
    sales = sales_since([refunded], SINCE)
    assert (sales.orders, sales.revenue_stars) == (0, 0)
    assert (sales.refunds, sales.refunded_stars) == (1, 480)


def test_the_top_products_are_those_with_the_most_keys_sold() -> None:
    sales = sales_since(
        [
            order(id=1, sku="A", quantity=1, product_name_en="Alpha"),
            order(id=2, sku="A", quantity=1, product_name_en="Alpha"),
            order(id=3, sku="B", quantity=5, product_name_en="Beta"),
        ],
        SINCE,
        top=1,
    )
    [best] = sales.top
    assert (best.sku, best.quantity, best.orders) == ("B", 5, 1)


def test_today_starts_at_midnight_in_the_shops_zone() -> None:
    now = datetime(2025, 1, 15, 18, 0, tzinfo=UTC)  # 02:00 on the 16th in Beijing
    assert start_of_day(ShopTime(), now) == datetime(2025, 1, 15, 16, 0, tzinfo=UTC)
    assert start_of_day(ShopTime(zone="UTC"), now) == datetime(2025, 1, 15, 0, 0, tzinfo=UTC)
