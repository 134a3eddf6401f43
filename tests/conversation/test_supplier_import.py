"""The chat import's caption names the supplier (`/import SKU SUPPLIER`, the house's when left
out); an unknown or suspended supplier imports nothing, and a resale attempt suspends one."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from handlers.action import EditText, SendText
from handlers.context import ShopContext
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import batches, card_keys
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import KeyStatus
from store.domain.supplier import SupplierStatus
from store.services.supplier import add_supplier, suspend_supplier
from tests.conftest import FakeClock
from tests.conversation.test_admin_import import in_stock, key_document, press_offer
from tests.factories import stocked_shop

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


@pytest.fixture
async def shop(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> ShopContext:
    await stocked_shop(uow, cipher, clock, stock=3)
    await add_supplier(
        uow,
        id="acme",
        name="Acme",
        public_name=None,
        contact="",
        public_key=None,
        actor="test",
        now=clock.now(),
    )
    return ctx


async def suppliers_of_batches(uow: UnitOfWorkFactory) -> list[str]:
    async with uow().reading() as tx:
        rows = await tx.connection.execute(select(batches.c.supplier_id).order_by(batches.c.id))
        return list(rows.scalars())


async def test_the_captions_second_word_names_the_supplier_of_the_batch(
    shop: ShopContext, uow: UnitOfWorkFactory
) -> None:
    [done] = await dispatch(key_document(b"NEW-1\nNEW-2\n", "/import STEAM-50 Acme"), shop)
    assert isinstance(done, SendText) and done.html == "✅ Imported 2 keys into STEAM-50."
    assert await suppliers_of_batches(uow) == ["house", "acme"]


async def test_an_unknown_supplier_imports_nothing_and_says_how_to_add_it(
    shop: ShopContext,
) -> None:
    [refusal] = await dispatch(key_document(b"NEW-1\n", "/import STEAM-50 nobody"), shop)
    assert isinstance(refusal, SendText)
    assert refusal.html.startswith("❌ No supplier <code>nobody</code>; nothing was imported.")
    assert await in_stock(shop) == 3


async def test_a_suspended_supplier_imports_nothing(
    shop: ShopContext, uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await suspend_supplier(uow, id="acme", reason="checking", actor="cli", now=clock.now())
    [refusal] = await dispatch(key_document(b"NEW-1\n", "/import STEAM-50 acme"), shop)
    assert isinstance(refusal, SendText)
    assert refusal.html.startswith("❌ Supplier <code>acme</code> is suspended")
    assert await in_stock(shop) == 3


async def test_the_good_lines_offer_imports_for_the_supplier_the_caption_named(
    shop: ShopContext, uow: UnitOfWorkFactory
) -> None:
    [refusal] = await dispatch(key_document(b"NEW-1\n\nNEW-2\n", "/import STEAM-50 acme"), shop)
    assert isinstance(refusal, SendText)
    [[offer]] = refusal.keyboard or ()
    _, edit = await dispatch(press_offer(offer.data), shop)  # the offer remembers acme
    assert isinstance(edit, EditText) and "Imported 2 keys" in edit.html
    assert await suppliers_of_batches(uow) == ["house", "acme"]


async def test_a_file_of_keys_already_sold_suspends_its_supplier_and_says_so(
    shop: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher
) -> None:
    await dispatch(key_document(b"A-1\nA-2\n", "/import STEAM-50 acme"), shop)
    async with uow() as tx:  # A-1 sold, as if a buyer had bought it
        await tx.connection.execute(
            update(card_keys)
            .where(card_keys.c.fingerprint == cipher.fingerprint("A-1"))
            .values(status=KeyStatus.SOLD)
        )
        await tx.commit()
    [refusal] = await dispatch(key_document(b"A-1\nA-3\n", "/import STEAM-50 acme"), shop)
    assert isinstance(refusal, SendText) and refusal.keyboard is None
    assert "line 1: already sold" in refusal.html
    assert "supplier <code>acme</code> is suspended for the resale attempt" in refusal.html
    assert "its 1 unsold keys are frozen" in refusal.html
    async with uow().reading() as tx:
        acme = await tx.suppliers.get("acme")
    assert acme is not None and acme.status is SupplierStatus.SUSPENDED
