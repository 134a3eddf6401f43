"""Importing keys in chat from hostile files: every refusal or summary still fits one message.

Telegram refuses a text over 4096 characters (counted once the HTML is parsed), and then the
admin hears nothing at all; so whatever a file holds, the reply is bounded and well-formed.
"""

from __future__ import annotations

import csv
import io
import random

import pytest

from handlers.action import SendText
from handlers.context import ShopContext
from handlers.event import DocumentMessage
from handlers.router import dispatch
from sandbox.html_entities import parse_html, utf16_len
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from tests.conftest import FakeClock
from tests.conversation.conftest import ADMIN
from tests.factories import person, stocked_shop

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
