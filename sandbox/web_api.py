"""The user side over HTTP, under ``/sandbox/api/``, for the web page (and curl).

Every action goes through `SandboxUser`, the same code the Python tests drive.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.errors import UserActionError
from sandbox.state import Chat

if TYPE_CHECKING:
    from sandbox.sandbox import Sandbox
    from sandbox.user import SandboxUser

API = "/sandbox/api"
MAX_LONG_POLL_SECONDS = 30.0
CHAT_ACTION_SECONDS = 5.0  # how long Telegram shows "typing…" after sendChatAction


def add_web_api_routes(app: web.Application, sandbox: Sandbox) -> None:
    routes = _WebApi(sandbox)
    app.router.add_get(f"{API}/users", routes.list_users)
    app.router.add_post(f"{API}/users", routes.add_user)
    app.router.add_get(API + "/chats/{user_id}/messages", routes.messages)
    app.router.add_post(API + "/chats/{user_id}/text", routes.send_text)
    app.router.add_post(API + "/chats/{user_id}/press", routes.press)
    app.router.add_post(API + "/chats/{user_id}/pay", routes.pay)
    app.router.add_post(API + "/chats/{user_id}/document", routes.send_document)
    app.router.add_post(API + "/chats/{user_id}/photo", routes.send_photo)
    app.router.add_get(API + "/files/{file_id}", routes.download)


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


class _WebApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.state = sandbox.state

    def _user_json(self, chat: Chat) -> dict[str, Any]:
        profile = chat.user
        return {
            "user_id": profile.user_id,
            "first_name": profile.first_name,
            "last_name": profile.last_name,
            "username": profile.username,
            "language_code": profile.language_code,
            "started": chat.started,
            "blocked": chat.blocked,
            "preset": profile.user_id in self.sandbox.preset_user_ids,
            "last_bot_message": _last_bot_message(chat),
        }

    def _user(self, request: web.Request) -> SandboxUser:
        try:
            user_id = int(request.match_info["user_id"])
        except ValueError:
            raise web.HTTPNotFound(text="no such user") from None
        if user_id not in self.state.chats:
            raise web.HTTPNotFound(text="no such user; POST /sandbox/api/users first")
        return self.sandbox.user(user_id)

    async def list_users(self, request: web.Request) -> web.Response:
        """Everyone the page plays; with ``since=<version>`` waits for any change in any chat.

        The page uses it to tell one persona that another has received a message.
        """
        try:
            since = int(request.query.get("since", "-1"))
            timeout = min(float(request.query.get("timeout", "0")), MAX_LONG_POLL_SECONDS)
        except ValueError:
            return _error("since and timeout must be numbers")
        if self.state.version <= since and timeout > 0:
            await self.state.wait_until(
                lambda: self.state.version > since or self.state.closing, timeout
            )
        return web.json_response(
            {
                "version": self.state.version,
                "bot": self.state.bot.to_user(),
                "users": [self._user_json(chat) for chat in self.state.chats.values()],
            }
        )

    async def add_user(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            user_id = int(body["user_id"])
        except (KeyError, TypeError, ValueError):
            return _error("user_id must be a number")
        if user_id <= 0:
            return _error("user_id must be positive")
        self.sandbox.user(
            user_id,
            first_name=body.get("first_name") or None,
            language_code=body.get("language_code") or None,
            username=body.get("username") or None,
        )
        await self.state.notify()
        return web.json_response(self._user_json(self.state.chats[user_id]))

    async def messages(self, request: web.Request) -> web.Response:
        """The chat; with ``since=<version>`` waits (up to ``timeout`` s) for something newer."""
        user = self._user(request)
        chat = self.state.chats[user.user_id]
        try:
            since = int(request.query.get("since", "-1"))
            timeout = min(float(request.query.get("timeout", "0")), MAX_LONG_POLL_SECONDS)
        except ValueError:
            return _error("since and timeout must be numbers")
        if chat.version <= since and timeout > 0:
            await self.state.wait_until(lambda: chat.version > since or self.state.closing, timeout)
        acting = (
            chat.chat_action
            if chat.chat_action
            and self.state.wall_clock() - chat.chat_action_at < CHAT_ACTION_SECONDS
            else None
        )
        return web.json_response(
            {
                "version": chat.version,
                "user": self._user_json(chat),
                "messages": [_web_message(m) for m in user.messages],
                "callback_answers": [asdict(a) for a in chat.callback_answers[-20:]],
                "commands": self.state.resolve_commands(chat.user),
                "description": self.state.resolve_description(chat.user),
                "short_description": self.state.resolve_description(chat.user, "short_description"),
                "chat_action": acting,
            }
        )

    async def send_text(self, request: web.Request) -> web.Response:
        user = self._user(request)
        body = await request.json()
        try:
            message_id = await user.send_text(str(body.get("text", "")))
        except UserActionError as error:
            return _error(str(error))
        return web.json_response({"message_id": message_id})

    async def press(self, request: web.Request) -> web.Response:
        """Body ``{message_id, row, column}``, or ``{button, message_id?}`` by text or data."""
        user = self._user(request)
        body = await request.json()
        try:
            if "row" in body:
                query_id = await user.press_at(
                    int(body["message_id"]), int(body["row"]), int(body["column"])
                )
            else:
                query_id = await user.press(str(body["button"]), body.get("message_id"))
        except (UserActionError, KeyError, ValueError) as error:
            return _error(str(error))
        return web.json_response({"callback_query_id": query_id})

    async def pay(self, request: web.Request) -> web.Response:
        user = self._user(request)
        body = await request.json() if request.can_read_body else {}
        try:
            result = await user.pay(body.get("message_id"))
        except UserActionError as error:
            return _error(str(error))
        return web.json_response(asdict(result))

    async def send_document(self, request: web.Request) -> web.Response:
        """Multipart with a ``file`` part and an optional ``caption`` field."""
        user = self._user(request)
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return _error("send the document as a multipart part named 'file'")
        caption = form.get("caption")
        try:
            message_id = await user.send_document(
                upload.filename,
                upload.file.read(),
                caption=caption if isinstance(caption, str) else None,
                mime_type=upload.content_type or None,
            )
        except UserActionError as error:
            return _error(str(error))
        return web.json_response({"message_id": message_id})

    async def send_photo(self, request: web.Request) -> web.Response:
        """Multipart with a ``file`` part (an image) and an optional ``caption`` field."""
        user = self._user(request)
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return _error("send the photo as a multipart part named 'file'")
        caption = form.get("caption")
        try:
            message_id = await user.send_photo(
                upload.file.read(),
                caption=caption if isinstance(caption, str) else None,
                filename=upload.filename or "photo.jpg",
            )
        except UserActionError as error:
            return _error(str(error))
        return web.json_response({"message_id": message_id})

    async def download(self, request: web.Request) -> web.Response:
        stored = self.state.files.get(request.match_info["file_id"])
        if stored is None:
            return _error("no such file", status=404)
        return web.Response(
            body=stored.content,
            content_type=stored.mime_type,
            headers={"Content-Disposition": f'attachment; filename="{_ascii(stored.file_name)}"'},
        )


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c not in '"\\' else "_" for c in name)


def _web_message(view: dict[str, Any]) -> dict[str, Any]:
    """A message for the page: files become download links instead of bytes."""
    shown = dict(view)
    for kind in ("document", "photo"):
        if shown[kind] is not None:
            file_view = {k: v for k, v in shown[kind].items() if k != "content"}
            file_view["url"] = f"{API}/files/{file_view['file_id']}"
            shown[kind] = file_view
    return shown


def _last_bot_message(chat: Chat) -> dict[str, Any] | None:
    """The newest message the bot sent to `chat` (edits aside), briefly, for a notice elsewhere."""
    bot_messages = [m for m in chat.messages.values() if m.sender == "bot"]
    if not bot_messages:
        return None
    newest = max(bot_messages, key=lambda m: m.message_id)
    body = newest.text or newest.caption or ""
    if newest.invoice is not None:
        body = f"⭐ {newest.invoice.total_amount} · {newest.invoice.title}"
    elif not body:
        body = "🖼" if newest.photo is not None else "📄" if newest.document else "…"
    return {"message_id": newest.message_id, "version": newest.version, "preview": body[:80]}
