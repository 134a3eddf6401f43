"""A supplier's money: the quality deposit (质量保证金), escrow, what the shop owes, payouts,
and the statement that shows it line by line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.domain.errors import ShopError
from store.domain.ledger import (
    Transaction,
    cash_movement,
    deposit,
    escrow,
    payable,
)
from store.domain.model import LedgerEntry, LedgerReason
from store.services.books import SupplierMoney, supplier_money
from store.services.ports import NewUnitOfWork
from store.services.stock import release_waiting_batches


class MoneyRefused(ShopError):
    """A deposit, withdrawal or payout that cannot be made as asked; nothing was written."""


@dataclass(frozen=True)
class MoneyMoved:
    written: bool
    """False: this idempotency key was used before, and nothing more was written."""
    money: SupplierMoney
    published_batches: tuple[int, ...] = ()
    """Batches that waited for the deposit and went on sale with it."""


async def _move(
    new_uow: NewUnitOfWork,
    supplier_id: str,
    entry_for: Transaction,
    account: str,
    now: datetime,
) -> tuple[bool, SupplierMoney]:
    async with new_uow() as uow:
        if not await uow.suppliers.lock(supplier_id):
            raise MoneyRefused(f"no supplier {supplier_id}")
        outgoing = -sum(p.amount_minor for p in entry_for.postings if p.account == account)
        if outgoing > 0 and not await uow.ledger.written(entry_for.idempotency_key):
            balance = await uow.ledger.account_balance(account)
            if outgoing > balance:
                raise MoneyRefused(f"{account} holds {balance}: {outgoing} cannot be taken")
        written = await uow.ledger.post(entry_for, now)
        money = await supplier_money(uow, supplier_id)
        await uow.commit()
    return written, money


def _checked(amount_minor: int, reason: str, idempotency_key: str) -> None:
    if amount_minor <= 0:
        raise MoneyRefused("the amount is a whole number of minor units above 0")
    if not reason.strip() or not idempotency_key.strip():
        raise MoneyRefused("a reason and an idempotency key (--key) are both required")


async def pay_deposit(
    new_uow: NewUnitOfWork,
    *,
    supplier_id: str,
    amount_minor: int,
    reason: str,
    idempotency_key: str,
    actor: str,
    now: datetime,
) -> MoneyMoved:
    """The supplier pays into its deposit (outside the bot); batches that waited for it go on
    sale. The same idempotency key twice writes once."""
    _checked(amount_minor, reason, idempotency_key)
    entry = cash_movement(
        LedgerReason.DEPOSIT,
        deposit(supplier_id),
        amount_minor,
        f"deposit:{supplier_id}:{idempotency_key.strip()}",
        f"{reason.strip()} ({actor})",
    )
    written, money = await _move(new_uow, supplier_id, entry, deposit(supplier_id), now)
    published = await release_waiting_batches(new_uow, supplier_id, now)
    return MoneyMoved(written, money, tuple(published))


async def withdraw_deposit(
    new_uow: NewUnitOfWork,
    *,
    supplier_id: str,
    amount_minor: int,
    reason: str,
    idempotency_key: str,
    actor: str,
    now: datetime,
) -> MoneyMoved:
    """Part of the deposit paid back; never more than it holds."""
    _checked(amount_minor, reason, idempotency_key)
    entry = cash_movement(
        LedgerReason.WITHDRAWAL,
        deposit(supplier_id),
        -amount_minor,
        f"withdraw:{supplier_id}:{idempotency_key.strip()}",
        f"{reason.strip()} ({actor})",
    )
    written, money = await _move(new_uow, supplier_id, entry, deposit(supplier_id), now)
    return MoneyMoved(written, money)


async def record_payout(
    new_uow: NewUnitOfWork,
    *,
    supplier_id: str,
    amount_minor: int,
    reference: str,
    actor: str,
    now: datetime,
) -> MoneyMoved:
    """A payout made outside the bot (a bank transfer), from what the shop owes: never more.
    The reference (the transfer's) is the idempotency key."""
    _checked(amount_minor, reference, reference)
    entry = cash_movement(
        LedgerReason.PAYOUT,
        payable(supplier_id),
        -amount_minor,
        f"payout:{supplier_id}:{reference.strip()}",
        f"{reference.strip()} ({actor})",
    )
    written, money = await _move(new_uow, supplier_id, entry, payable(supplier_id), now)
    return MoneyMoved(written, money)


# --- the statement ---------------------------------------------------------------------------

STATEMENT_KINDS = {
    LedgerReason.SALE: "held",
    LedgerReason.PURCHASE: "held",
    LedgerReason.SETTLEMENT: "released",
    LedgerReason.REFUND: "cancelled",
    LedgerReason.BAD_KEY_REFUND: "charged",
    LedgerReason.REPLACEMENT: "charged",
    LedgerReason.SUPPLIER_CHARGE: "charged",
    LedgerReason.DEPOSIT: "deposit",
    LedgerReason.WITHDRAWAL: "withdrawal",
    LedgerReason.PAYOUT: "paid out",
}


@dataclass(frozen=True)
class StatementLine:
    at: datetime
    kind: str
    """held, released, cancelled (a refund), charged (a bad key), deposit, withdrawal, paid out"""
    account: str
    amount_minor: int
    order_reference: str | None
    case_id: int | None
    note: str | None


@dataclass(frozen=True)
class Statement:
    supplier_id: str
    since: datetime | None
    lines: tuple[StatementLine, ...]
    money: SupplierMoney

    def total(self, kind: str) -> int:
        return sum(line.amount_minor for line in self.lines if line.kind == kind)


def _line(entry: LedgerEntry, account: str) -> StatementLine:
    kind = STATEMENT_KINDS.get(entry.reason, entry.reason.value)
    if kind == "held" and entry.amount_minor < 0:
        kind = "cancelled"
    if entry.reason is LedgerReason.REPLACEMENT and entry.amount_minor > 0:
        kind = "held"  # the replacement key's own escrow
    return StatementLine(
        entry.created_at,
        kind,
        account.partition(":")[0],
        entry.amount_minor,
        entry.order_reference,
        entry.case_id,
        entry.note,
    )


async def supplier_statement(
    new_uow: NewUnitOfWork, *, supplier_id: str, since: datetime | None
) -> Statement:
    async with new_uow().reading() as uow:
        if await uow.suppliers.get(supplier_id) is None:
            raise MoneyRefused(f"no supplier {supplier_id}")
        accounts = [escrow(supplier_id), payable(supplier_id), deposit(supplier_id)]
        postings = await uow.ledger.postings_of(accounts, since)
        money = await supplier_money(uow, supplier_id)
    return Statement(supplier_id, since, tuple(_line(e, a) for e, a in postings), money)


def statement_rows(statement: Statement) -> Sequence[Sequence[str]]:
    """The statement as CSV rows, a header first."""
    rows: list[list[str]] = [["time", "kind", "account", "amount_minor", "order", "case", "note"]]
    for line in statement.lines:
        rows.append(
            [
                line.at.isoformat(),
                line.kind,
                line.account,
                str(line.amount_minor),
                line.order_reference or "",
                str(line.case_id or ""),
                line.note or "",
            ]
        )
    return rows
