"""The aiohttp application: the Bot API and file downloads for the bot, the page for a person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.errors import BotApiError
from sandbox.params import Params, UploadedFile, normalize
from sandbox.web_api import add_web_api_routes

if TYPE_CHECKING:
    from sandbox.sandbox import Sandbox

MAX_REQUEST_BYTES = 52 * 1024 * 1024  # Telegram takes uploads up to 50 MB
PAGE = Path(__file__).with_name("page.html")
SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox")


def build_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SANDBOX_KEY] = sandbox
    app.router.add_route("POST", "/bot{token}/{method}", _bot_method)
    app.router.add_route("GET", "/bot{token}/{method}", _bot_method)
    app.router.add_get("/file/bot{token}/{file_path:.+}", _download)
    app.router.add_get("/", _page)
    app.router.add_get("/favicon.ico", _no_icon)
    add_web_api_routes(app, sandbox)
    return app


async def _bot_method(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    status = 200
    try:
        if request.match_info["token"] != sandbox.token:
            raise BotApiError(401, "Unauthorized")
        raw, files = await _read_params(request)
        params = Params(normalize(raw, files))
        result = await sandbox.api.call(request.match_info["method"], params)
        body: dict[str, Any] = {"ok": True, "result": result}
    except BotApiError as error:
        status, body = error.error_code, error.to_json()
    finally:
        await sandbox.state.notify()  # every Bot API call wakes whoever waits for a change
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Form, multipart or JSON body, plus the query string, as Telegram accepts them all."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.can_read_body:
        return raw, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise BotApiError(400, "Bad Request: can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise BotApiError(400, "Bad Request: request body must be a JSON object")
        raw.update(body)
        return raw, files
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            files[name] = UploadedFile(
                filename=value.filename,
                content=value.file.read(),
                content_type=value.content_type,
            )
        elif isinstance(value, bytes | bytearray):
            raw[name] = bytes(value).decode("utf-8")
        else:
            raw[name] = value
    return raw, files


async def _download(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    if request.match_info["token"] != sandbox.token:
        return web.json_response(BotApiError(401, "Unauthorized").to_json(), status=401)
    stored = sandbox.state.files_by_path.get(request.match_info["file_path"])
    if stored is None:
        return web.json_response(BotApiError(404, "Not Found").to_json(), status=404)
    return web.Response(body=stored.content, content_type=stored.mime_type)


async def _no_icon(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def _page(request: web.Request) -> web.Response:
    return web.Response(
        text=PAGE.read_text(encoding="utf-8"),
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )
