"""Revealing a paid order's keys to its owner, in clear, the first reveal recorded; and the
keys' trace codes, which the owner may pass on to anyone (`/trace CODE`)."""

from __future__ import annotations

from datetime import datetime

from store.domain.errors import KeysNotAvailable
from store.domain.model import RevealedKeys
from store.services.order import owned_order
from store.services.ports import KeyCipher, UnitOfWork


async def reveal_keys(
    uow: UnitOfWork, *, user_id: int, order_id: int, cipher: KeyCipher, now: datetime
) -> RevealedKeys:
    """The order's keys in clear, for its owner only; the first reveal is recorded."""
    async with uow:
        order = await owned_order(uow, order_id, user_id)
        first = await uow.orders.mark_revealed(order_id, now)
        if first is None:
            raise KeysNotAvailable(order.status.value)
        product = await uow.catalog.product(order.sku, with_stock=False)
        ciphertexts = await uow.card_keys.sold_ciphertexts(order_id)
        codes = await uow.card_keys.trace_codes(order_id)
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
        redeem_zh_hant=product.redeem_zh_hant,
        trace_codes=[code or "" for code in codes],
    )


async def trace_codes_of(uow: UnitOfWork, *, user_id: int, order_id: int) -> list[str]:
    """The trace codes of an order's sold keys, in the order its keys are shown, for its owner
    only; none before it is paid (a held key is not yet the buyer's)."""
    async with uow.reading():
        order = await owned_order(uow, order_id, user_id)
        if not order.has_keys:
            return []
        return [code for code in await uow.card_keys.trace_codes(order_id) if code]
