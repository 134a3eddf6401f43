"""Importing keys in chat from hostile files: every refusal or summary still fits one message.

Telegram refuses a text over 4096 characters (counted once the HTML is parsed), and then the
admin hears nothing at all; so whatever a file holds, the reply is bounded and well-formed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
from dataclasses import replace

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.action import AnswerButton, EditText, SendText
from handlers.context import ShopContext
from handlers.event import ButtonPress, DocumentMessage
from handlers.router import dispatch
from sandbox.html_entities import parse_html, utf16_len
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.services.stock import stock_status
from tests.conftest import FakeClock
from tests.conversation.conftest import ADMIN
from tests.factories import person, press, stocked_shop
from tests.fakes import FakeTelegramFiles

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

TEXT_LIMIT = 4096
HOSTILE = "&<>\"'&amp;<b>😀\u202e"
"""Characters that grow when escaped, look like markup, or count twice in UTF-16."""


async def import_reply(ctx: ShopContext, file_name: str, content: bytes) -> str:
    """The admin's one reply to the file captioned /import STEAM-50, checked as Telegram would."""

    async def download() -> bytes:
        return content

    event = DocumentMessage(person(ADMIN), file_name, len(content), "/import STEAM-50", download)
    [reply] = await dispatch(event, ctx)
    assert isinstance(reply, SendText) and reply.chat_id == ADMIN
    shown = parse_html(reply.html).text  # raises, as Telegram does, on a broken tag or entity
    assert 0 < utf16_len(shown) <= TEXT_LIMIT, (file_name, utf16_len(shown))
    return shown


def csv_file(rows: list[list[str]]) -> bytes:
    """Rows written as a spreadsheet would: cells with commas or quotes are quoted."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def hostile_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(HOSTILE + ",col") for _ in range(length))


@pytest.fixture
async def shop(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> ShopContext:
    await stocked_shop(uow, cipher, clock, stock=3)
    return ctx


async def test_a_csv_with_a_very_wide_header_is_refused_in_one_message_naming_a_few_columns(
    shop: ShopContext,
) -> None:
    header = ",".join(f"column_{n:04d}" for n in range(512))  # 7,168 characters of header
    shown = await import_reply(shop, "keys.csv", f"{header}\nK-1\n".encode())
    assert "no 'key' column" in shown and "column_0000" in shown
    assert "column_0511" not in shown and "…" in shown


async def test_thousands_of_refused_lines_are_counted_not_listed(shop: ShopContext) -> None:
    lines = ["K-1", *([""] * 5000), *(["x" * 300] * 3000), "STEAM-50-000000", "K-1"]
    shown = await import_reply(shop, "keys.txt", "\n".join(lines).encode())
    assert "nothing was imported" in shown
    assert "line 2: blank line" in shown and "… +" in shown
    assert "blank line: 5000" in shown and "already in stock: 1" in shown


@pytest.mark.parametrize("seed", range(12))
async def test_any_hostile_file_gets_a_reply_that_telegram_accepts(
    shop: ShopContext, seed: int
) -> None:
    rng = random.Random(seed)
    header = [hostile_text(rng, rng.randint(1, 40)) for _ in range(rng.randint(1, 3000))]
    header += ["key"] * rng.choice([0, 0, 1, 2])  # none, one, or several key columns
    keys = [
        rng.choice(["", "x" * rng.randint(257, 20_000), hostile_text(rng, 50), "K-1", "K-2"])
        for _ in range(rng.randint(1, 4000))
    ]
    rows = [[hostile_text(rng, 5)] * (len(header) - 1) + [key] for key in keys[:50]]
    await import_reply(shop, "keys.csv", csv_file([header, *rows]))
    await import_reply(shop, "keys.txt", "\n".join(keys).encode() or b"\n")
    await import_reply(shop, "keys.txt", b"K-" + HOSTILE.encode() * rng.randint(1, 9000))
    await import_reply(shop, "keys.csv", b'key,"' + hostile_text(rng, 9000).encode())


FILES = FakeTelegramFiles()
"""What Telegram keeps of the files sent in these tests: a press reads one again by file_id."""


def key_document(
    content: bytes, caption: str = "/import STEAM-50", sender: int = ADMIN
) -> DocumentMessage:
    file_id = FILES.keep(content)

    async def download() -> bytes:
        return await FILES.download(file_id)

    return DocumentMessage(
        person(sender), "keys.txt", len(content), caption, download, file_id=file_id
    )


def press_offer(data: str | None, user_id: int = ADMIN, message_id: int = 7) -> ButtonPress:
    assert data
    return press(data, user_id, message_id=message_id, download=FILES.download)


async def in_stock(ctx: ShopContext) -> int:
    levels = await stock_status(ctx.uow())
    return next(level.available for level in levels if level.sku == "STEAM-50")


async def test_a_refused_file_offers_to_import_its_good_lines_and_does_so_when_pressed(
    shop: ShopContext,
) -> None:
    content = b"NEW-1\n\nNEW-2\nSTEAM-50-000000\nNEW-3\n"  # a blank line, one key in stock
    [refusal] = await dispatch(key_document(content), shop)
    assert isinstance(refusal, SendText) and "nothing was imported" in refusal.html
    [[offer]] = refusal.keyboard or ()
    assert offer.text == "📥 Import the 3 good lines" and offer.data
    assert await in_stock(shop) == 3
    answer, edit = await dispatch(press_offer(offer.data, message_id=77), shop)
    assert isinstance(answer, AnswerButton)
    assert isinstance(edit, EditText) and edit.message_id == 77 and edit.keyboard is None
    assert "Imported 3 keys into STEAM-50. 2 lines were skipped." in edit.html
    assert "line 2: blank line" in edit.html and "line 4: already in stock" in edit.html
    assert await in_stock(shop) == 6


async def test_the_good_lines_offer_is_taken_once_and_only_by_the_admin_who_sent_the_file(
    shop: ShopContext,
) -> None:
    [refusal] = await dispatch(key_document(b"NEW-1\n\nNEW-2\n"), shop)
    assert isinstance(refusal, SendText)
    [[offer]] = refusal.keyboard or ()
    assert offer.data
    [forged] = await dispatch(press_offer(offer.data, 1001), shop)
    assert isinstance(forged, AnswerButton) and forged.text == "This command is for admins only."
    await dispatch(press_offer(offer.data), shop)
    [again] = await dispatch(press_offer(offer.data), shop)
    assert isinstance(again, AnswerButton) and "imported already" in (again.text or "")
    assert await in_stock(shop) == 5


async def test_a_file_with_nothing_good_in_it_offers_no_partial_import(shop: ShopContext) -> None:
    [refusal] = await dispatch(key_document(b"STEAM-50-000000\n\n"), shop)
    assert isinstance(refusal, SendText) and refusal.keyboard is None


async def test_the_sku_in_the_caption_matches_whatever_its_case(shop: ShopContext) -> None:
    [done] = await dispatch(key_document(b"NEW-1\n", "/import steam-50"), shop)
    assert isinstance(done, SendText) and "Imported 1 keys into STEAM-50." in done.html
    assert await in_stock(shop) == 4


async def test_an_unknown_sku_is_named_with_the_nearest_skus(shop: ShopContext) -> None:
    [refusal] = await dispatch(key_document(b"NEW-1\n", "/import STEM-50"), shop)
    assert isinstance(refusal, SendText)
    assert refusal.html == (
        "❌ No product has the SKU <code>STEM-50</code>. Did you mean <code>STEAM-50</code>?"
    )


async def test_blank_lines_at_the_end_of_a_key_file_are_ignored_in_chat(shop: ShopContext) -> None:
    [done] = await dispatch(key_document(b"NEW-1\nNEW-2\n\n\n  \n"), shop)
    assert isinstance(done, SendText) and done.html == "✅ Imported 2 keys into STEAM-50."


OTHER_ADMIN = 43


async def refused_with_offer(ctx: ShopContext, content: bytes) -> str:
    """The file refused, and the data of its "import the good lines" button."""
    [refusal] = await dispatch(key_document(content), ctx)
    assert isinstance(refusal, SendText)
    [[offer]] = refusal.keyboard or ()
    assert offer.data
    return offer.data


def restarted(ctx: ShopContext, engine: AsyncEngine) -> ShopContext:
    """The shop as a new process (or another worker) builds it: nothing shared but the database."""
    return ShopContext(
        uow=UnitOfWorkFactory(engine),
        clock=ctx.clock,
        cipher=ctx.cipher,
        refunder=ctx.refunder,
        hold=ctx.hold,
        topup=ctx.topup,
        admin_ids=ctx.admin_ids,
    )


async def test_the_good_lines_button_still_works_after_a_restart(
    shop: ShopContext, engine: AsyncEngine
) -> None:
    data = await refused_with_offer(shop, b"NEW-1\n\nNEW-2\n")
    assert len(data.encode()) <= 64 and data.startswith("importgood:")
    again = restarted(shop, engine)
    answer, edit = await dispatch(press_offer(data, message_id=77), again)
    assert isinstance(answer, AnswerButton) and isinstance(edit, EditText)
    assert "Imported 2 keys into STEAM-50. 1 lines were skipped." in edit.html
    assert await in_stock(again) == 5


async def test_the_offer_keeps_the_file_by_its_id_and_never_its_keys(
    shop: ShopContext, uow: UnitOfWorkFactory
) -> None:
    data = await refused_with_offer(shop, b"SECRET-KEY-1\n\nSECRET-KEY-2\n")
    async with uow().reading() as tx:
        offer = await tx.import_offers.get(int(data.split(":")[1]))
    assert offer is not None and offer.admin_id == ADMIN and offer.sku == "STEAM-50"
    assert offer.acceptable == 2 and offer.file_id.startswith("file-")
    assert "SECRET" not in repr(offer)


async def test_the_good_lines_pressed_twice_are_imported_once(shop: ShopContext) -> None:
    data = await refused_with_offer(shop, b"NEW-1\n\nNEW-2\n")
    first, second = await asyncio.gather(
        dispatch(press_offer(data), shop), dispatch(press_offer(data), shop)
    )
    refusals = [a for a in [*first, *second] if isinstance(a, AnswerButton) and a.alert]
    assert [a.text for a in refusals] == [
        "These good lines were imported already; they are not imported twice."
    ]
    assert await in_stock(shop) == 5


async def test_another_admins_press_imports_nothing_and_says_whose_offer_it_is(
    shop: ShopContext,
) -> None:
    admins = replace(shop, admin_ids=frozenset({ADMIN, OTHER_ADMIN}))
    data = await refused_with_offer(admins, b"NEW-1\n\nNEW-2\n")
    [refusal] = await dispatch(press_offer(data, OTHER_ADMIN), admins)
    assert isinstance(refusal, AnswerButton) and refusal.text == (
        "This offer is for the admin who sent the file; nothing was imported."
    )
    assert await in_stock(admins) == 3
    _, edit = await dispatch(press_offer(data), admins)  # still the sender's to take
    assert isinstance(edit, EditText) and "Imported 2 keys" in edit.html


async def test_a_forged_offer_id_imports_nothing_and_says_there_is_no_such_offer(
    shop: ShopContext,
) -> None:
    await refused_with_offer(shop, b"NEW-1\n\nNEW-2\n")
    [refusal] = await dispatch(press_offer("importgood:999"), shop)
    assert isinstance(refusal, AnswerButton) and "no such offer" in (refusal.text or "")
    assert await in_stock(shop) == 3


async def test_an_expired_offer_says_so_and_imports_nothing(
    shop: ShopContext, clock: FakeClock
) -> None:
    data = await refused_with_offer(shop, b"NEW-1\n\nNEW-2\n")
    clock.advance(hours=1)
    [refusal] = await dispatch(press_offer(data), shop)
    assert isinstance(refusal, AnswerButton) and "offer has expired" in (refusal.text or "")
    assert await in_stock(shop) == 3
