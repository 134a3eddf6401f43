"""Delivering paid keys: the outbox the sender drains, and revealing keys to their owner."""

from __future__ import annotations

from datetime import datetime, timedelta

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWork
from store.domain.errors import KeysNotAvailable
from store.domain.model import OrderStatus, OutboxItem, RevealedKeys
from store.services.order import owned_order

CLAIM_TIMEOUT = timedelta(seconds=30)
"""An item claimed longer ago than this was left by a crashed sender and is taken again. A
delivery repeated so is an edit of the same message (see handlers/outbox.py), not a new one."""


async def reveal_keys(
    uow: UnitOfWork, *, user_id: int, order_id: int, cipher: CardKeyCipher, now: datetime
) -> RevealedKeys:
    """The order's keys in clear, for its owner only; the first reveal is recorded."""
    async with uow:
        order = await owned_order(uow, order_id, user_id)
        first = await uow.orders.mark_revealed(order_id, now)
        if first is None:
            raise KeysNotAvailable(order.status.value)
        product = await uow.catalog.product(order.sku, with_stock=False)
        ciphertexts = await uow.card_keys.sold_ciphertexts(order_id)
        if first:
            await uow.card_keys.record_reveal(order_id, now)
        await uow.commit()
    assert product is not None
    return RevealedKeys(
        order=order,
        keys=[cipher.decrypt(token) for token in ciphertexts],
        redeem_zh=product.redeem_zh,
        redeem_en=product.redeem_en,
        first_reveal=first,
    )


async def claim_outbox(uow: UnitOfWork, *, now: datetime, limit: int = 30) -> list[OutboxItem]:
    """Take the next messages to send (including any a crashed sender left half-done)."""
    async with uow:
        items = await uow.outbox.claim(now, now - CLAIM_TIMEOUT, limit)
        await uow.commit()
    return items


async def finish_outbox(
    uow: UnitOfWork, *, item: OutboxItem, now: datetime, sent: bool, give_up: bool = False
) -> None:
    """Record that an item went out (a delivery marks its order delivered), or retry it later."""
    async with uow:
        if sent or give_up:
            await uow.outbox.finish(item.id, now, failed=not sent)
        else:
            await uow.outbox.retry_later(item.id)
        if sent and item.kind == "delivery" and item.order_id is not None:
            await uow.orders.move(
                item.order_id, [OrderStatus.PAID], OrderStatus.DELIVERED, delivered_at=now
            )
        await uow.commit()
