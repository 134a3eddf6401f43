"""A recording fake of the Bot API for the busy day: every action checked as Telegram checks it.

No network and no sender pacing: an action is "performed" by checking it against the Bot API's
rules (HTML entities, lengths, known chats and messages, one answer per button press), storing the
message so later edits can be checked, and handing the sent message back to the simulation.
A request Telegram would refuse is counted with its reason and not delivered.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from handlers.action import (
    Action,
    AnswerButton,
    AnswerPreCheckout,
    CopyMessage,
    EditText,
    Keyboard,
    SendDocument,
    SendInvoice,
    SendText,
)
from sandbox.bot_api import MAX_CALLBACK_ANSWER, MAX_CAPTION, MAX_TEXT
from sandbox.errors import BotApiError
from sandbox.html_entities import parse_html

CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
NOT_FOUND = "Bad Request: message to edit not found"
QUERY_ANSWERED = "Bad Request: query is too old or already answered"


@dataclass(frozen=True)
class Delivered:
    """A message as its recipient sees it (sent, or edited in place)."""

    chat_id: int
    message_id: int
    html: str
    buttons: tuple[str, ...]
    """Callback data of its buttons, row by row."""
    edited: bool = False


@dataclass
class Refusals:
    reasons: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, reason: str, example: str) -> None:
        self.reasons[reason] += 1
        self.examples.setdefault(reason, example[:300])


def _buttons(keyboard: Keyboard | None) -> tuple[str, ...]:
    return tuple(b.data for row in keyboard or () for b in row if b.data is not None)


class RecordingTelegram:
    """Performs the conversation's actions the way the Bot API would accept or refuse them."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.refused = Refusals()
        self.not_modified = 0
        """Edits Telegram answers with "message is not modified" (the adapters ignore them)."""
        self.edits: Counter[tuple[int, int]] = Counter()
        self.sent_to: Counter[int] = Counter()
        self.unanswered_presses = 0
        self.largest_burst: tuple[int, int] = (0, 0)
        """(messages, chat): the most messages one chat got from one simulated step."""
        self._chats: set[int] = set()
        self._next_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], tuple[str, tuple[str, ...]]] = {}
        self._open_presses: set[str] = set()
        self._burst: Counter[int] = Counter()
        self.repeated = Refusals()
        """The same text sent twice to one chat within one step, by its first line."""
        self._step = 0
        self._last_text: dict[int, tuple[int, str]] = {}

    def user_wrote(self, chat_id: int, message_id: int | None = None) -> int:
        """A user's message: their chat now exists; returns its id (one numbering per chat)."""
        self._chats.add(chat_id)
        return self._new_id(chat_id) if message_id is None else message_id

    def pressed(self, callback_id: str) -> None:
        self._open_presses.add(callback_id)

    def end_press(self, callback_id: str) -> None:
        """The update is handled: a press nobody answered leaves the user's spinner turning."""
        if callback_id in self._open_presses:
            self._open_presses.discard(callback_id)
            self.unanswered_presses += 1

    def end_step(self) -> None:
        self._step += 1
        for chat, count in self._burst.items():
            if count > self.largest_burst[0]:
                self.largest_burst = (count, chat)
        self._burst.clear()

    def text_of(self, chat_id: int, message_id: int) -> str | None:
        """A message's text as its recipient sees it now (after any edits)."""
        stored = self._messages.get((chat_id, message_id))
        return None if stored is None else stored[0]

    async def perform(self, actions: list[Action]) -> list[Delivered]:
        delivered: list[Delivered] = []
        for action in actions:
            self.calls[type(action).__name__] += 1
            try:
                message = await self._perform(action)
            except BotApiError as error:
                self.refused.add(f"{type(action).__name__}: {error.description}", repr(action))
                continue
            if message is not None:
                delivered.append(message)
                self._burst[message.chat_id] += 1
        return delivered

    async def _perform(self, action: Action) -> Delivered | None:
        match action:
            case SendText():
                return await self._send(action)
            case EditText():
                return self._edit(action)
            case AnswerButton():
                self._answer(action)
            case CopyMessage():
                self._reachable(action.chat_id)
                if action.caption_html is not None:
                    self._parsed(action.caption_html, MAX_CAPTION)
                message = Delivered(action.chat_id, self._new_id(action.chat_id), "", ())
                return message
            case SendInvoice() | SendDocument() | AnswerPreCheckout():
                pass  # not part of a support day
        return None

    async def _send(self, action: SendText) -> Delivered:
        self._reachable(action.chat_id)
        text = self._parsed(action.html, MAX_TEXT)
        if self._last_text.get(action.chat_id) == (self._step, action.html):
            self.repeated.add(action.html.splitlines()[0][:80], repr(action))
        self._last_text[action.chat_id] = (self._step, action.html)
        message_id = self._new_id(action.chat_id)
        buttons = _buttons(action.keyboard)
        self._messages[action.chat_id, message_id] = (text, buttons)
        self.sent_to[action.chat_id] += 1
        return Delivered(action.chat_id, message_id, action.html, buttons)

    def _edit(self, action: EditText) -> Delivered | None:
        key = (action.chat_id, action.message_id)
        if key not in self._messages:
            raise BotApiError(400, NOT_FOUND)
        content = (self._parsed(action.html, MAX_TEXT), _buttons(action.keyboard))
        if self._messages[key] == content:
            self.not_modified += 1  # Telegram answers 400; both adapters take it as done
            return None
        self._messages[key] = content
        self.edits[key] += 1
        return Delivered(action.chat_id, action.message_id, action.html, content[1], edited=True)

    def _answer(self, action: AnswerButton) -> None:
        if action.callback_id not in self._open_presses:
            raise BotApiError(400, QUERY_ANSWERED)
        self._open_presses.discard(action.callback_id)
        if action.text is not None and len(action.text) > MAX_CALLBACK_ANSWER:
            raise BotApiError(400, "Bad Request: MESSAGE_TOO_LONG")

    def _reachable(self, chat_id: int) -> None:
        if chat_id not in self._chats:
            raise BotApiError(403, CANT_INITIATE)

    @staticmethod
    def _parsed(html: str, limit: int) -> str:
        parsed = parse_html(html)
        if not parsed.text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(parsed.text) > limit:
            raise BotApiError(400, "Bad Request: message is too long")
        return parsed.text

    def _new_id(self, chat_id: int) -> int:
        self._next_id[chat_id] = self._next_id.get(chat_id, 0) + 1
        return self._next_id[chat_id]
