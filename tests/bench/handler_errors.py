"""What the conversation's central error handler logged during a run, counted, not printed."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

ROUTER_LOGGER = "handlers.router"


class HandlerErrors(logging.Handler):
    """Counts `handling failed` records by their exception, so a summary replaces tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.reasons: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if error is None:
            self.reasons[record.getMessage()[:160]] += 1
            return
        kind = type(error)
        first_line = (str(error).splitlines() or [""])[0]
        self.reasons[f"{kind.__module__}.{kind.__qualname__}: {first_line}"[:160]] += 1


@contextmanager
def counted_handler_errors() -> Iterator[HandlerErrors]:
    """While open, the router's error records are counted instead of printed."""
    logger = logging.getLogger(ROUTER_LOGGER)
    errors = HandlerErrors()
    logger.addHandler(errors)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield errors
    finally:
        logger.propagate = propagate
        logger.removeHandler(errors)
