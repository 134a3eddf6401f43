"""Domain errors: every expected failure a buyer or admin can cause shares one base."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.domain.model import Agent


class ShopError(Exception):
    """An expected, explainable refusal; handlers turn it into a friendly reply."""


class StoreBusy(Exception):
    """The database could not serve this now (locked, a serialisation failure, a dropped
    connection): nothing was changed, and the same work may be retried. Not a refusal."""


class DuplicateRecord(Exception):
    """A unique constraint refused a row another transaction wrote first; nothing was changed."""


class ReadOnlyError(Exception):
    """A unit of work opened with `reading()` was asked to write or to commit: a bug, never
    retried (the transaction rolls back and nothing is changed)."""


class UnreadableToken(Exception):
    """None of the key cipher's passphrases opens this token."""


class BadPayload(ValueError):
    """A stored payload (an outbox item's body, a flow's data) that does not parse into its
    type: written by an older version, or forged. Refused, never guessed at."""


class OrderChanged(Exception):
    """An order was not in the status its transition expected, although it was locked: a bug."""


class NotFound(ShopError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class ProductNotFound(NotFound):
    pass


class UnknownSku(ProductNotFound):
    """No product has this SKU, in any case; `nearest` are those most like it, nearest first."""

    def __init__(self, sku: str, nearest: tuple[str, ...] = ()) -> None:
        super().__init__(sku)
        self.sku = sku
        self.nearest = nearest


class OrderNotFound(NotFound):
    pass


class NotYourOrder(ShopError):
    """Someone asked about an order that belongs to another buyer."""


class OutOfStock(ShopError):
    def __init__(self, available: int) -> None:
        super().__init__(f"only {available} in stock")
        self.available = available


class QuantityNotAllowed(ShopError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"quantity must be between 1 and {limit}")
        self.limit = limit


class TooManyOpenOrders(ShopError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} unpaid orders at once")
        self.limit = limit


class OrderNotPayable(ShopError):
    """The order is no longer awaiting payment (paid, expired without stock, refunded)."""

    def __init__(self, status: str) -> None:
        super().__init__(f"order is {status}")
        self.status = status


class InsufficientBalance(ShopError):
    def __init__(self, balance: int, needed: int) -> None:
        super().__init__(f"balance {balance} is below {needed}")
        self.balance = balance
        self.needed = needed


class KeysNotAvailable(ShopError):
    """The order has no keys to show (not paid yet, refunded, or awaiting stock)."""


class RefundNotAllowed(ShopError):
    pass


class RefundFailed(ShopError):
    """Telegram refused a refund for good; the order is put back as it was."""


class ImportRefused(ShopError):
    """A stock import was refused whole; `summary` says which lines and why."""

    def __init__(self, summary: object) -> None:
        super().__init__("import refused")
        self.summary = summary


class NotAnAgent(ShopError):
    pass


class NoOpenTicket(ShopError):
    """The agent has no ticket to act on (none assigned, or not theirs)."""


class OffDuty(ShopError):
    """The agent is not on duty, so takes no ticket from the queue."""


class AgentUnavailable(ShopError):
    """A transfer names someone who cannot take the ticket: `reason` says why.

    "self" (the agent holding it), "not_agent", "off_duty" or "full"; `agent` is their record,
    if they have one.
    """

    def __init__(self, agent_id: int, reason: str, agent: Agent | None = None) -> None:
        super().__init__(agent_id, reason)
        self.agent_id = agent_id
        self.reason = reason
        self.agent = agent


class AliasRefused(ShopError):
    """An alias an agent chose that cannot be one (empty, too long, invisible characters)."""
