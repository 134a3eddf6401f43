"""Keep tokens and card keys out of logs that third-party libraries write.

httpx logs every request URL at INFO, and the Bot API URL contains the bot token; PTB logs each
call's parameters at DEBUG, which include the text of messages that carry card keys; aiohttp's
access log prints the request path (with the token) of the in-process sandbox. Those loggers
are capped here; Kamibot's own log lines never include message text, keys or secrets.
"""

from __future__ import annotations

import logging

CAPPED = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram.Bot": logging.INFO,
    "telegram.ext.ExtBot": logging.INFO,
    "aiohttp.access": logging.WARNING,
    "aiosqlite": logging.INFO,
    "apscheduler.executors": logging.WARNING,  # not secret, but a line every 10 s buries the rest
}


def cap_library_loggers() -> None:
    for name, level in CAPPED.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)
