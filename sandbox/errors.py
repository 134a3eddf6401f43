"""Errors of the sandbox: Bot API errors as Telegram words them, and misuse of the user side."""

from __future__ import annotations

from typing import Any


class SandboxError(Exception):
    """Base of every error the sandbox raises."""


class BotApiError(SandboxError):
    """An answer with ``ok: false``, as Telegram would give it to the bot."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class UserActionError(SandboxError):
    """The test or the person asked the user side for something Telegram would not allow."""


def bad_request(detail: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> BotApiError:
    return BotApiError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: int) -> BotApiError:
    return BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def entities_error(detail: str) -> BotApiError:
    return bad_request(f"can't parse entities: {detail}")
