"""Documents both ways: multipart uploads, file_id reuse, getFile and downloads."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BufferedInputFile
from telegram import Bot as PtbBot

from sandbox import Sandbox
from sandbox.errors import UserActionError
from tests.sandbox.conftest import TOKEN, BotApiClient

CSV = b"sku,key\nA1,AAAA-BBBB\n"


async def test_a_multipart_document_reaches_the_user_and_downloads_again(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_text("/start")
    form = aiohttp.FormData()
    form.add_field("chat_id", "1001")
    form.add_field("caption", "<b>keys</b>")
    form.add_field("parse_mode", "HTML")
    form.add_field("document", CSV, filename="keys.csv", content_type="text/csv")
    async with api.session.post(
        f"{sandbox.base_url}/bot{TOKEN}/sendDocument", data=form
    ) as response:
        sent = (await response.json())["result"]

    assert sent["document"]["file_name"] == "keys.csv"
    assert sent["caption"] == "keys"
    seen = user.messages[-1]
    assert (seen["document"]["file_name"], seen["document"]["content"]) == ("keys.csv", CSV)
    assert seen["html"] == "<b>keys</b>"

    file = await api.result("getFile", file_id=sent["document"]["file_id"])
    async with api.session.get(
        f"{sandbox.base_url}/file/bot{TOKEN}/{file['file_path']}"
    ) as response:
        assert await response.read() == CSV

    again = await api.result("sendDocument", chat_id=1001, document=sent["document"]["file_id"])
    assert again["document"]["file_id"] == sent["document"]["file_id"]


async def test_an_unknown_file_id_is_refused(sandbox: Sandbox, api: BotApiClient) -> None:
    await sandbox.user(1001).send_text("/start")
    status, body = await api.call("sendDocument", chat_id=1001, document="no-such-file")
    assert (status, body["description"]) == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    status, body = await api.call("getFile", file_id="no-such-file")
    assert (status, body["description"]) == (400, "Bad Request: invalid file_id")


async def test_aiogram_uploads_with_attach_and_downloads_a_users_document(sandbox: Sandbox) -> None:
    user = sandbox.user(1001)
    await user.send_document("import.csv", CSV, caption="/import SKU")
    upload = sandbox.state.chats[1001].messages[1]
    assert upload.caption_entities == [{"type": "bot_command", "offset": 0, "length": 7}]
    assert upload.document is not None

    async with Bot(
        TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.base_url))
    ) as bot:
        file = await bot.get_file(upload.document.file_id)
        assert file.file_path is not None
        downloaded = await bot.download_file(file.file_path)
        assert downloaded is not None and downloaded.read() == CSV
        sent = await bot.send_document(1001, BufferedInputFile(b"receipt", filename="receipt.txt"))
        assert sent.document is not None and sent.document.file_name == "receipt.txt"

    assert sandbox.calls_to("sendDocument")[0]["document"].content == b"receipt"
    assert user.messages[-1]["document"]["content"] == b"receipt"


async def test_ptb_uploads_under_the_field_name_and_downloads_a_users_document(
    sandbox: Sandbox,
) -> None:
    user = sandbox.user(1001)
    await user.send_document("import.csv", CSV)
    stored = sandbox.state.chats[1001].messages[1].document
    assert stored is not None

    bot = PtbBot(
        TOKEN, base_url=sandbox.base_url + "/bot", base_file_url=sandbox.base_url + "/file/bot"
    )
    async with bot:
        file = await bot.get_file(stored.file_id)
        assert bytes(await file.download_as_bytearray()) == CSV
        sent = await bot.send_document(1001, b"receipt", filename="receipt.txt")
        assert sent.document is not None and sent.document.file_name == "receipt.txt"

    assert user.messages[-1]["document"]["content"] == b"receipt"


def png(width: int, height: int) -> bytes:
    """Just enough of a PNG for its size to be read (the sandbox never decodes pixels)."""
    header = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR"
    return header + width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\0\0\0"


async def test_a_photo_from_the_user_arrives_as_photo_sizes_largest_last(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_photo(png(1280, 960), caption="the error")
    [update] = await api.result("getUpdates")
    message = update["message"]
    assert "document" not in message
    assert message["caption"] == "the error"
    sizes = [(size["width"], size["height"]) for size in message["photo"]]
    assert sizes == [(90, 68), (320, 240), (800, 600), (1280, 960)]
    assert len({size["file_id"] for size in message["photo"]}) == 4
    for size in message["photo"]:
        file = await api.result("getFile", file_id=size["file_id"])
        async with api.session.get(
            f"{sandbox.base_url}/file/bot{TOKEN}/{file['file_path']}"
        ) as response:
            assert await response.read() == png(1280, 960)


async def test_a_small_photo_has_only_its_own_size_and_a_non_image_is_no_photo(
    sandbox: Sandbox, api: BotApiClient
) -> None:
    user = sandbox.user(1001)
    await user.send_photo(png(64, 48))
    [update] = await api.result("getUpdates")
    assert [(s["width"], s["height"]) for s in update["message"]["photo"]] == [(64, 48)]
    with pytest.raises(UserActionError):
        await user.send_photo(CSV)
