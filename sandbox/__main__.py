"""``python -m sandbox``: run the fake Telegram alone, for trying a bot by hand.

Point the bot at the printed URL (aiogram: ``TelegramAPIServer.from_base(url)``;
python-telegram-bot: ``base_url=url + "/bot"``, ``base_file_url=url + "/file/bot"``)
and open the URL in a browser to chat as one of the users.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from sandbox.sandbox import DEFAULT_TOKEN, Sandbox
from sandbox.state import UserProfile

DEFAULT_USERS = ("1001:Li:zh-hans", "42:Admin:en")


def parse_user(spec: str) -> UserProfile:
    """``ID[:FIRST_NAME[:LANGUAGE[:USERNAME]]]``, e.g. ``1001:Li:zh-hans``."""
    parts = spec.split(":")
    try:
        user_id = int(parts[0])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a user is ID[:NAME[:LANGUAGE[:USERNAME]]], not {spec!r}"
        ) from None
    return UserProfile(
        user_id=user_id,
        first_name=parts[1] if len(parts) > 1 and parts[1] else "User",
        language_code=parts[2] if len(parts) > 2 and parts[2] else "en",
        username=parts[3] if len(parts) > 3 and parts[3] else None,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the token the bot must use")
    parser.add_argument(
        "--user",
        dest="users",
        action="append",
        type=parse_user,
        help="a preset user ID[:NAME[:LANGUAGE[:USERNAME]]], repeatable; "
        f"default {' and '.join(DEFAULT_USERS)}",
    )
    parser.add_argument("--per-chat-burst", type=int, default=None)
    parser.add_argument("--per-bot-per-second", type=int, default=None)
    return parser


async def serve(args: argparse.Namespace) -> None:
    users = args.users or [parse_user(spec) for spec in DEFAULT_USERS]
    limits = {
        name: value
        for name, value in (
            ("per_chat_burst", args.per_chat_burst),
            ("per_bot_per_second", args.per_bot_per_second),
        )
        if value is not None
    }
    sandbox = Sandbox(args.token, users=users, **limits)
    url = await sandbox.start(args.host, args.port)
    print(f"Telegram sandbox (local, not Telegram) at {url}", flush=True)
    print(f"bot token: {args.token}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()


def main() -> None:
    asyncio.run(serve(build_parser().parse_args()))


if __name__ == "__main__":
    main()
