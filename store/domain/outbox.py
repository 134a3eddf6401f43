"""The outbox's messages: a kind each, the typed payload that kind carries, and its stored form.

A payload is stored as JSON in the outbox's `body` column and parsed back into its own type;
a body that does not parse is refused (`BadPayload`), never guessed at.
"""

from __future__ import annotations

import dataclasses
import json
import types
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

from store.domain.errors import BadPayload
from store.domain.support import Breach

ADMINS_CHAT = 0
"""Outbox items addressed to chat 0 fan out to every admin."""


class OutboxKind(StrEnum):
    DELIVERY = "delivery"
    AWAITING_STOCK = "awaiting_stock"
    ORDER_EXPIRED = "order_expired"
    ADMIN_ALERT = "admin_alert"
    LOW_STOCK = "low_stock"
    TICKET_ASSIGNED = "ticket_assigned"
    QUEUE_POSITION = "queue_position"
    RESPONSE_BREACH = "response_breach"
    CASE_DECIDED = "case_decided"
    REFUNDED = "refunded"
    WALLET_CREDITED = "wallet_credited"
    CHECKPOINT_SIGNED = "checkpoint_signed"


@dataclass(frozen=True)
class Delivery:
    """A paid order's keys are ready (the message holds none: they are shown on request)."""

    kind: ClassVar[OutboxKind] = OutboxKind.DELIVERY
    order_id: int


@dataclass(frozen=True)
class AwaitingStock:
    """A paid order found no stock: the buyer may wait or be refunded."""

    kind: ClassVar[OutboxKind] = OutboxKind.AWAITING_STOCK
    order_id: int


@dataclass(frozen=True)
class OrderExpired:
    """An unpaid order's hold lapsed: its summary says so and offers to order again."""

    kind: ClassVar[OutboxKind] = OutboxKind.ORDER_EXPIRED
    order_id: int


@dataclass(frozen=True)
class AdminAlert:
    kind: ClassVar[OutboxKind] = OutboxKind.ADMIN_ALERT
    text: str
    order_id: int | None = None


@dataclass(frozen=True)
class LowStock:
    kind: ClassVar[OutboxKind] = OutboxKind.LOW_STOCK
    sku: str


@dataclass(frozen=True)
class TicketAssigned:
    """An agent has the ticket: their context card, and the buyer told who it is."""

    kind: ClassVar[OutboxKind] = OutboxKind.TICKET_ASSIGNED
    ticket_id: int
    refresh: bool = False
    """The same agent's card again (a case joined the ticket): the buyer was told already."""


@dataclass(frozen=True)
class QueuePosition:
    """A waiting buyer's place and expected wait: their one queue message, sent or edited."""

    kind: ClassVar[OutboxKind] = OutboxKind.QUEUE_POSITION
    ticket_id: int
    handed_back: bool = False
    """An agent handed the ticket back to the queue: the buyer hears that with their place."""


@dataclass(frozen=True)
class ResponseBreach:
    """Response targets missed since the last check, for agents on duty and admins."""

    kind: ClassVar[OutboxKind] = OutboxKind.RESPONSE_BREACH
    breaches: tuple[Breach, ...]


@dataclass(frozen=True)
class CaseDecided:
    kind: ClassVar[OutboxKind] = OutboxKind.CASE_DECIDED
    case_id: int


@dataclass(frozen=True)
class Refunded:
    """A refund finished after the buyer's screen was gone (resumed by the job)."""

    kind: ClassVar[OutboxKind] = OutboxKind.REFUNDED
    stars: int
    order_id: int | None = None


@dataclass(frozen=True)
class WalletCredited:
    """An admin credited the buyer's wallet (money paid outside Telegram): the buyer is told."""

    kind: ClassVar[OutboxKind] = OutboxKind.WALLET_CREDITED
    amount_minor: int
    balance_minor: int


@dataclass(frozen=True)
class CheckpointSigned:
    """A new signed checkpoint of the transparency log, posted to TRACE_CHANNEL as it is."""

    kind: ClassVar[OutboxKind] = OutboxKind.CHECKPOINT_SIGNED
    note: str


OutboxPayload = (
    Delivery
    | AwaitingStock
    | OrderExpired
    | AdminAlert
    | LowStock
    | TicketAssigned
    | QueuePosition
    | ResponseBreach
    | CaseDecided
    | Refunded
    | WalletCredited
    | CheckpointSigned
)

PAYLOADS: dict[OutboxKind, type[OutboxPayload]] = {
    payload.kind: payload for payload in get_args(OutboxPayload)
}
"""Each kind's payload type (every kind has one)."""


@dataclass(frozen=True)
class OutboxItem:
    id: int
    chat_id: int
    payload: OutboxPayload
    attempts: int

    @property
    def kind(self) -> OutboxKind:
        return self.payload.kind


@dataclass(frozen=True)
class OutboxReceipt:
    """What a sent item leaves behind, recorded when it is finished (never while rendering).

    `message_id`: the message later items edit in place (a buyer's queue place, an order's
    notice). `relayed`: the ticket messages the agent was shown (what a buyer wrote while
    waiting); they count as passed on only once Telegram took the message showing them.
    """

    message_id: int | None = None
    relayed: tuple[int, ...] = ()


def payload_body(payload: OutboxPayload) -> str:
    """The payload as stored in the `body` column."""
    return json.dumps(dataclasses.asdict(payload), ensure_ascii=False, sort_keys=True)


def parse_payload(kind: str, body: str) -> OutboxPayload:
    """The payload `payload_body` stored for `kind`; anything else raises `BadPayload`."""
    try:
        payload_type = PAYLOADS[OutboxKind(kind)]
    except ValueError:
        raise BadPayload(f"unknown outbox kind {kind[:24]!r}") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise BadPayload(f"{kind}: the body is not JSON") from None
    payload: OutboxPayload = _build(payload_type, data, kind)
    return payload


def _build(cls: type[Any], data: object, where: str) -> Any:
    if not isinstance(data, dict):
        raise BadPayload(f"{where}: expected an object")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise BadPayload(f"{where}: unknown field {sorted(unknown)[0]!r}")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in data:
            if field.default is dataclasses.MISSING:
                raise BadPayload(f"{where}: missing {name}")
            continue
        values[name] = _value(hints[name], data[name], f"{where}.{name}")
    return cls(**values)


def _value(hint: Any, raw: object, where: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if raw is None and type(None) in options:
            return None
        [hint] = [option for option in options if option is not type(None)]
        return _value(hint, raw, where)
    if origin is tuple:
        item, _ = get_args(hint)
        if not isinstance(raw, list):
            raise BadPayload(f"{where}: expected a list")
        return tuple(_value(item, entry, f"{where}[{i}]") for i, entry in enumerate(raw))
    if hint is int:
        if type(raw) is not int:  # bool is an int to Python, not to us
            raise BadPayload(f"{where}: expected a whole number")
        return raw
    if hint is bool:
        if type(raw) is not bool:
            raise BadPayload(f"{where}: expected true or false")
        return raw
    if hint is str:
        if not isinstance(raw, str):
            raise BadPayload(f"{where}: expected text")
        return raw
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        if not isinstance(raw, str) or raw not in {member.value for member in hint}:
            raise BadPayload(f"{where}: unknown value {str(raw)[:24]!r}")
        return hint(raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, raw, where)
    raise TypeError(f"{where}: no parser for {hint!r}")  # a payload field of a new type
