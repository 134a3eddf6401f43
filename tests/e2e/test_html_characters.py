"""A product named with HTML's special characters reads as written everywhere a buyer sees it,
on both runtimes: Telegram parses messages as HTML and shows labels and invoices as sent."""

from __future__ import annotations

from bot.app import KamibotApp
from sandbox import Sandbox
from store.adapters.card_key_cipher import CardKeyCipher
from store.services.catalog import load_catalog
from store.services.stock import import_card_keys
from tests.conftest import FakeClock
from tests.e2e.conftest import SECRET
from tests.e2e.test_storefront import shop_order_reference
from tests.factories import catalog, key_file, keys, product

NAME = "A&B <X> \"Q\" 'q'"


async def test_a_name_with_html_characters_reads_as_written_in_messages_labels_and_invoices(
    sandbox: Sandbox, shop: KamibotApp, clock: FakeClock
) -> None:
    await load_catalog(
        shop.ctx.uow(),
        spec=catalog(product(), product("HTML-1", name_en=NAME, position=1)),
        star_value_minor=10,
        default_order_limit=10,
    )
    await import_card_keys(
        shop.ctx.uow,
        sku="HTML-1",
        parsed=key_file(*keys("HTML-1", 5)),  # enough not to alert the admins
        source="e2e",
        cipher=CardKeyCipher([SECRET]),
        now=clock.now(),
    )
    buyer = sandbox.user(1003)
    await buyer.send_text("/shop")
    await buyer.wait_for_text("Choose a category")
    await buyer.press("cat:game:0")
    listed = await buyer.wait_for_text(f"• {NAME} — ¥48.00")
    await buyer.press(f"{NAME} · ¥48.00", listed)  # the label as the buyer reads it
    await buyer.wait_for_text(f"{NAME}\nChina region")
    await buyer.press("buy:HTML-1:1")
    await buyer.wait_for_text(f"{NAME}\nTotal")
    reference = shop_order_reference(buyer.messages)
    await buyer.send_text("/orders")
    orders = await buyer.wait_for_text("My orders")
    await buyer.press(f"{reference} · {NAME} · awaiting payment", orders)
    detail = await buyer.wait_for_text("Status: awaiting payment")
    await buyer.press("⭐ Pay 480 Stars", detail)
    [invoice] = await buyer.wait_for(
        lambda messages: [m["invoice"] for m in messages if m.get("invoice")]
    )
    assert invoice["title"] == f"Order {reference}" and invoice["description"] == NAME
    assert (await buyer.pay()).ok
    ready = await buyer.wait_for_text(f"Your key is ready for order {reference}: {NAME}\n")
    await buyer.press("🔑 Show keys", ready)
    await buyer.wait_for_text(f"Order {reference} · {NAME}")
    assert not sandbox.refused, sandbox.refused
