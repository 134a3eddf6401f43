"""`Sandbox`: a fake Telegram on localhost that real bot runtimes poll and call."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from sandbox.bot_api import BotApi
from sandbox.errors import BotApiError
from sandbox.flood import (
    DEFAULT_PER_BOT_PER_SECOND,
    DEFAULT_PER_CHAT_BURST,
    Clock,
    FloodControl,
)
from sandbox.server import build_app
from sandbox.state import BotCall, BotProfile, SandboxState, UserProfile
from sandbox.user import SandboxUser

DEFAULT_TOKEN = "123456789:SANDBOX-token-for-local-use-only"
PRE_CHECKOUT_TIMEOUT = 10.0  # Telegram cancels a payment the bot has not approved by then


class Sandbox:
    """A local Bot API server plus the users who talk to the bot.

    Any token of Telegram's shape works; the bot's id is the number before the colon.
    Flood limits count sends and edits per chat and per bot in a sliding one-second window;
    the defaults (20 per chat, 30 per bot) only stop a runaway bot.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "sandbox_bot",
        bot_first_name: str = "Sandbox Bot",
        users: Iterable[UserProfile] = (),
        per_chat_burst: int = DEFAULT_PER_CHAT_BURST,
        per_bot_per_second: int = DEFAULT_PER_BOT_PER_SECOND,
        pre_checkout_timeout: float = PRE_CHECKOUT_TIMEOUT,
        require_start: bool = True,
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like '123456:ABC...'")
        self.token = token
        self.state = SandboxState(BotProfile(int(bot_id), bot_first_name, bot_username), wall_clock)
        self.flood = FloodControl(clock, per_chat_burst, per_bot_per_second)
        self.api = BotApi(self.state, self.flood, require_start=require_start)
        self.pre_checkout_timeout = pre_checkout_timeout
        self.preset_user_ids: list[int] = []
        for profile in users:
            self.state.register_user(profile)
            self.preset_user_ids.append(profile.user_id)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # --- running ---

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on `host`:`port` (0 picks a free port); returns the base URL."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        self.state.closing = False
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:  # a busy port: the caller says so; the socket must not leak
            sock.close()
            raise
        # A poll the client gave up on is cancelled, as Telegram drops it with the connection.
        runner = web.AppRunner(
            build_app(self), handle_signals=False, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner
        bound_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown_host}:{bound_port}"
        return self._base_url

    async def stop(self) -> None:
        """Answer pending long polls, then close the server."""
        if self._runner is None:
            return
        self.state.closing = True
        for query in self.state.pre_checkout_queries.values():
            if not query.answer.done():
                query.answer.set_result((False, "the sandbox stopped"))
        await self.state.notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the sandbox is not running; await start() first")
        return self._base_url

    @property
    def bot_id(self) -> int:
        return self.state.bot.bot_id

    # --- the user side ---

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        language_code: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
    ) -> SandboxUser:
        """The user with this id, created on first use; given fields update the profile."""
        if user_id not in self.state.chats:
            self.state.register_user(
                UserProfile(
                    user_id=user_id,
                    first_name=first_name or "User",
                    language_code=language_code or "en",
                    username=username,
                    last_name=last_name,
                )
            )
        else:
            self.state.update_profile(
                user_id,
                first_name=first_name,
                language_code=language_code,
                username=username,
                last_name=last_name,
            )
        return SandboxUser(self.state, user_id, self.pre_checkout_timeout)

    # --- what the bot did ---

    @property
    def calls(self) -> list[BotCall]:
        """Every Bot API call received, in order, as ``(method, params)``."""
        return self.state.calls

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """The params of every call to `method` (e.g. ``"sendMessage"``)."""
        name = self.api.canonical_name(method)
        return [call.params for call in self.state.calls if call.method == name]

    @property
    def refused(self) -> list[tuple[BotCall, BotApiError]]:
        """Calls answered with ``ok: false``, with the error sent back."""
        return self.api.refused

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - as SandboxUser.wait_for
    ) -> dict[str, Any]:
        """Wait until the bot has called `method` with params matching `predicate`."""
        name = self.api.canonical_name(method)
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            for call in self.state.calls:
                if call.method == name and (predicate is None or predicate(call.params)):
                    found[:] = [call.params]
                    return True
            return False

        if not await self.state.wait_until(seen, timeout):
            raise TimeoutError(f"the bot did not call {name} within {timeout}s")
        return found[0]
