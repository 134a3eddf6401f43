"""The books: one double-entry ledger for all money, in integer minor units.

A transaction is two or more postings that sum to zero, under one idempotency key, with a
reason code. Every balance is the sum of an account's postings. Accounts are named
`kind:owner`, and read from the holder's side: a wallet, an escrow, a payable or a deposit is
positive when the shop holds that much for its holder. Money that enters from outside (Stars,
cash taken at the desk) is posted against an `external:` account, which therefore runs
negative by what came in; the shop's own results are the `shop:` accounts.

How a sale flows (p: a key's price, C: its supplier's cost, from the key's batch):

    payment    external:stars or wallet:U  −T      shop:clearing  +T
    sale       shop:clearing −T            escrow:S +ΣC        shop:unearned +Σ(p−C)
    settlement escrow:S −C   payable:S +C  shop:unearned −(p−C) shop:margin +(p−C)
    payout     payable:S −A                external:cash +A

A refund cancels the escrow still held for the refunded keys and pays the buyer back; a key
confirmed bad is also charged to its supplier (see `supplier_charge`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store.domain.errors import ShopError
from store.domain.model import LedgerReason
from store.domain.supplier import HOUSE_SUPPLIER

EXTERNAL_STARS = "external:stars"
"""Telegram Stars paid in (negative) and refunded (positive)."""
EXTERNAL_CASH = "external:cash"
"""Money moved outside the bot: an admin's credit, a supplier's deposit, a payout."""
CLEARING = "shop:clearing"
"""Paid orders whose keys are not sold yet (paid while out of stock)."""
UNEARNED = "shop:unearned"
"""The shop's margin on keys still inside the after-sales window."""
MARGIN = "shop:margin"
"""The shop's margin, recognised when a key's escrow settles."""
RECOVERIES = "shop:recoveries"
"""What suppliers' deposits paid for their bad keys."""
REFUNDS_DUE = "shop:refunds_due"
"""Stars charges that could not be applied, until Telegram has given them back."""


class LedgerError(ShopError):
    """A transaction that does not balance, or a movement the books refuse."""


def wallet(user_id: int) -> str:
    return f"wallet:{user_id}"


def escrow(supplier_id: str) -> str:
    return f"escrow:{supplier_id}"


def payable(supplier_id: str) -> str:
    return f"payable:{supplier_id}"


def deposit(supplier_id: str) -> str:
    return f"deposit:{supplier_id}"


def wallet_owner(account: str) -> int | None:
    """The buyer a wallet account belongs to (None for any other account)."""
    kind, _, owner = account.partition(":")
    return int(owner) if kind == "wallet" and owner.lstrip("-").isdigit() else None


@dataclass(frozen=True)
class Posting:
    account: str
    amount_minor: int


@dataclass(frozen=True)
class Transaction:
    """Postings that sum to zero: written whole, once per idempotency key. One that moves
    nothing (no postings) writes nothing."""

    reason: LedgerReason
    idempotency_key: str
    postings: tuple[Posting, ...]
    order_id: int | None = None
    case_id: int | None = None
    stars: int | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if not self.idempotency_key:
            raise LedgerError("a transaction needs an idempotency key")
        if len(self.postings) == 1:
            raise LedgerError(f"{self.idempotency_key}: a transaction has two postings or more")
        if len({p.account for p in self.postings}) != len(self.postings):
            raise LedgerError(f"{self.idempotency_key}: one posting per account")
        if any(type(p.amount_minor) is not int for p in self.postings):
            raise LedgerError(f"{self.idempotency_key}: amounts are whole minor units")
        if sum(p.amount_minor for p in self.postings) != 0:
            raise LedgerError(f"{self.idempotency_key}: the postings do not sum to zero")


def transaction(
    reason: LedgerReason,
    idempotency_key: str,
    amounts: Iterable[tuple[str, int]],
    **details: int | str | None,
) -> Transaction:
    """A transaction from (account, amount) pairs: one posting per account, zeros dropped."""
    totals: dict[str, int] = defaultdict(int)
    for account, amount in amounts:
        totals[account] += amount
    postings = tuple(Posting(a, v) for a, v in totals.items() if v != 0)
    return Transaction(reason, idempotency_key[:128], postings, **details)  # type: ignore[arg-type]


# --- escrow --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EscrowRules:
    refund_window_days: int = 7
    margin_days: int = 2
    """Kept on top of the refund window, so a refund decided on its last day is still covered."""

    def sold_before(self, now: datetime) -> datetime:
        """Keys sold before this are out of their window: their escrow settles."""
        return now - timedelta(days=self.refund_window_days + self.margin_days)


@dataclass(frozen=True)
class SoldKey:
    """A key as the books see it: whose it is, what it cost, what it sold for."""

    card_key_id: int
    supplier_id: str
    cost_minor: int
    price_minor: int

    @property
    def margin_minor(self) -> int:
        return self.price_minor - self.cost_minor


@dataclass(frozen=True)
class Hold:
    """One sold key's supplier cost held in escrow until its after-sales window ends."""

    id: int
    card_key_id: int
    order_id: int
    supplier_id: str
    cost_minor: int
    price_minor: int
    held_at: datetime
    status: str = "held"
    """held → released (settled), or cancelled by a refund or a confirmed bad key."""
    case_id: int | None = None

    @property
    def margin_minor(self) -> int:
        return self.price_minor - self.cost_minor


def key_prices(total_minor: int, count: int) -> list[int]:
    """Each key's share of an order's total: whole minor units that add up to the total."""
    if count <= 0:
        return []
    share, rest = divmod(total_minor, count)
    return [share + (1 if i < rest else 0) for i in range(count)]


def payment(
    order_id: int, total_minor: int, source: str, idempotency_key: str, stars: int | None = None
) -> Transaction:
    """The buyer's money comes in for an order (Stars, or the wallet): it waits in clearing."""
    reason = LedgerReason.PURCHASE if source.startswith("wallet:") else LedgerReason.STARS_PAYMENT
    return transaction(
        reason,
        idempotency_key,
        [(source, -total_minor), (CLEARING, total_minor)],
        order_id=order_id,
        stars=stars,
    )


def sale(order_id: int, keys: Iterable[SoldKey], source: str = CLEARING) -> Transaction:
    """The order's keys are sold: the suppliers' costs go to escrow, the rest waits unearned.

    The money comes from clearing when it was paid before (while out of stock), else straight
    from the payment (`source`: the buyer's wallet, or external:stars).
    """
    amounts: list[tuple[str, int]] = []
    for key in keys:
        amounts += [
            (source, -key.price_minor),
            (escrow(key.supplier_id), key.cost_minor),
            (UNEARNED, key.margin_minor),
        ]
    reason = LedgerReason.PURCHASE if source.startswith("wallet:") else LedgerReason.SALE
    return transaction(reason, f"sale:{order_id}", amounts, order_id=order_id)


def _reversal(holds: Iterable[Hold]) -> list[tuple[str, int]]:
    amounts: list[tuple[str, int]] = []
    for hold in holds:
        amounts += [(escrow(hold.supplier_id), -hold.cost_minor), (UNEARNED, -hold.margin_minor)]
    return amounts


def settlement(hold: Hold) -> Transaction:
    """The window ended untouched: the supplier is owed its cost, and the margin is earned."""
    return transaction(
        LedgerReason.SETTLEMENT,
        f"settle:{hold.id}",
        [
            (escrow(hold.supplier_id), -hold.cost_minor),
            (payable(hold.supplier_id), hold.cost_minor),
            (UNEARNED, -hold.margin_minor),
            (MARGIN, hold.margin_minor),
        ],
        order_id=hold.order_id,
    )


def refund(
    reason: LedgerReason,
    idempotency_key: str,
    *,
    order_id: int,
    amount_minor: int,
    destination: str,
    cancelled: Iterable[Hold],
    unsold_minor: int = 0,
    case_id: int | None = None,
    stars: int | None = None,
) -> Transaction:
    """Money goes back to the buyer (`destination`: their wallet, or external:stars).

    It comes from the escrow and unearned margin of the `cancelled` holds, and from clearing
    for what was paid but never sold (`unsold_minor`); what differs (a key refunded after its
    escrow settled, or a refund capped below the keys' price) is the shop's margin.
    """
    cancelled = list(cancelled)
    taken = sum(h.price_minor for h in cancelled) + unsold_minor
    return transaction(
        reason,
        idempotency_key,
        [
            (destination, amount_minor),
            *_reversal(cancelled),
            (CLEARING, -unsold_minor),
            (MARGIN, taken - amount_minor),
        ],
        order_id=order_id,
        case_id=case_id,
        stars=stars,
    )


def replacement(
    idempotency_key: str, *, order_id: int, case_id: int | None, bad: Hold | None, new: SoldKey
) -> Transaction:
    """A bad key's escrow is cancelled and its replacement's supplier is held its cost instead:
    the buyer paid once, for a key that works."""
    price = bad.price_minor if bad is not None else new.cost_minor
    amounts = [(escrow(new.supplier_id), new.cost_minor), (UNEARNED, price - new.cost_minor)]
    if bad is not None:
        amounts += _reversal([bad])
    else:  # the bad key's escrow had already settled: the shop pays for the replacement
        amounts += [(MARGIN, -price)]
    return transaction(
        LedgerReason.REPLACEMENT, idempotency_key, amounts, order_id=order_id, case_id=case_id
    )


def supplier_charge(
    supplier_id: str,
    charge_minor: int,
    forfeited: Hold | None,
    *,
    order_id: int,
    case_id: int | None,
    idempotency_key: str,
) -> Transaction | None:
    """What a confirmed bad key costs its supplier: the buyer's refund, or the replacement's cost.

    The key's own escrow pays first: the supplier forfeits it (`forfeited`, cancelled with the
    refund or replacement). The rest is taken from the deposit, which may go below zero: a debt.
    Nothing is charged for the shop's own stock. None when nothing is left to take.
    """
    if supplier_id == HOUSE_SUPPLIER:
        return None
    rest = charge_minor - (forfeited.cost_minor if forfeited is not None else 0)
    if rest <= 0:
        return None
    return transaction(
        LedgerReason.SUPPLIER_CHARGE,
        idempotency_key,
        [(deposit(supplier_id), -rest), (RECOVERIES, rest)],
        order_id=order_id,
        case_id=case_id,
    )


def refused_charge(charge_id: str, value_minor: int) -> Transaction:
    """A Stars charge the shop will not apply (a second payment, the wrong amount): owed back."""
    return transaction(
        LedgerReason.STARS_PAYMENT,
        f"refused:{charge_id}",
        [(EXTERNAL_STARS, -value_minor), (REFUNDS_DUE, value_minor)],
    )


def refused_charge_returned(charge_id: str, value_minor: int) -> Transaction:
    return transaction(
        LedgerReason.REFUND,
        f"refund:{charge_id}",
        [(REFUNDS_DUE, -value_minor), (EXTERNAL_STARS, value_minor)],
    )


def cash_movement(
    reason: LedgerReason, account: str, amount_minor: int, idempotency_key: str, note: str
) -> Transaction:
    """Money in (positive) or out (negative) of `account`, moved outside the bot."""
    return transaction(
        reason,
        idempotency_key,
        [(account, amount_minor), (EXTERNAL_CASH, -amount_minor)],
        note=note[:255],
    )


# --- checking the books ----------------------------------------------------------------------


@dataclass(frozen=True)
class BookProblem:
    what: str

    def __str__(self) -> str:
        return self.what


@dataclass(frozen=True)
class BookFigures:
    """What `ledger check` reads: sums from the postings and from the records they stand for."""

    unbalanced: Mapping[str, int] = field(default_factory=dict)
    """Idempotency key → the sum of its postings, for every transaction that is not zero."""
    balances: Mapping[str, int] = field(default_factory=dict)
    held_by_supplier: Mapping[str, int] = field(default_factory=dict)
    """Σ cost of the escrow holds still held, per supplier."""
    clearing_by_order: Mapping[int, tuple[int, str, int]] = field(default_factory=dict)
    """Order id → (what clearing holds for it, the order's status, its total), where not 0."""


def book_problems(figures: BookFigures) -> list[BookProblem]:
    """Every way the books disagree with themselves or with what they record."""
    problems = [
        BookProblem(f"transaction {key} does not balance: its postings sum to {total}")
        for key, total in sorted(figures.unbalanced.items())
    ]
    total = sum(figures.balances.values())
    if total != 0:
        problems.append(BookProblem(f"the accounts sum to {total}, not 0"))
    for account, balance in sorted(figures.balances.items()):
        if wallet_owner(account) is not None and balance < 0:
            problems.append(BookProblem(f"{account} is below zero: {balance}"))
    escrows = {
        a.removeprefix("escrow:"): b for a, b in figures.balances.items() if a[:7] == "escrow:"
    }
    for supplier_id in sorted(set(escrows) | set(figures.held_by_supplier)):
        held = figures.held_by_supplier.get(supplier_id, 0)
        if escrows.get(supplier_id, 0) != held:
            problems.append(
                BookProblem(
                    f"escrow:{supplier_id} is {escrows.get(supplier_id, 0)} but its held "
                    f"keys cost {held}"
                )
            )
    for order_id, (held, status, total) in sorted(figures.clearing_by_order.items()):
        if status != "awaiting_stock" or held != total:
            problems.append(
                BookProblem(
                    f"clearing holds {held} for order {order_id} ({status}, total {total}): "
                    "only an order paid and awaiting stock waits there, for its total"
                )
            )
    return problems
