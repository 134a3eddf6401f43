"""Keep tokens, card keys and what people type out of logs that third-party libraries write.

httpx logs every request URL at INFO, and the Bot API URL contains the bot token; aiohttp's
access log prints the request path (with the token) of the in-process sandbox. PTB prints whole
updates and calls (every text, name and username in them) from these loggers:

- `telegram.Bot`, `telegram.ext.ExtBot`: each call's parameters and result at DEBUG (the result
  of getUpdates is every update), the Bot API URL (with the token) at DEBUG, and the updates it
  could not parse at CRITICAL;
- `telegram.ext.Application`: each update processed or dropped at DEBUG, and one it could not
  build a context for at CRITICAL;
- `telegram.ext.Updater`: a webhook's body and a wrong secret token at DEBUG, an unparsed webhook
  body at CRITICAL;
- `telegram.request.BaseRequest`: a response it could not decode, at ERROR.

Those loggers are capped here, and what PTB prints from them above the cap loses its arguments
but numbers (the message says what happened, not to what). Kamibot's own log lines never include
message text, keys or secrets.
"""

from __future__ import annotations

import logging

CAPPED = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram.Bot": logging.INFO,
    "telegram.ext.ExtBot": logging.INFO,
    "telegram.ext.Application": logging.INFO,
    "telegram.ext.Updater": logging.INFO,
    "telegram.request": logging.INFO,
    "aiohttp.access": logging.WARNING,
    "aiosqlite": logging.INFO,
    "apscheduler.executors": logging.WARNING,  # not secret, but a line every 10 s buries the rest
    "apscheduler.scheduler": logging.WARNING,  # a line a job at start-up pushes the address away
    "aiogram.event": logging.WARNING,  # "Update id=… is handled": a line an update
}

PTB_CONTENT = (
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
    "telegram.request.BaseRequest",
)
"""The PTB loggers whose lines above the cap may still carry an update or a response."""


class WithoutContent(logging.Filter):
    """Replaces a record's arguments, except numbers, by their type: `Update`, not its text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_blank(arg) for arg in record.args)
        elif record.args:  # a single mapping, for %(name)s formats
            record.args = {key: _blank(arg) for key, arg in record.args.items()}
        return True


def _blank(arg: object) -> object:
    return arg if isinstance(arg, int | float) else f"<{type(arg).__name__}>"


def cap_library_loggers() -> None:
    for name, level in CAPPED.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)
    for name in PTB_CONTENT:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithoutContent) for f in logger.filters):
            logger.addFilter(WithoutContent())
