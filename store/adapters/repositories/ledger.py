"""The ledger: append-only postings, written a balanced transaction at a time; a balance is a sum.

A wallet's postings carry its user_id, so a buyer's balance and history read one index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.tables import escrow_holds, ledger_entries, orders
from store.domain.clock import as_utc
from store.domain.errors import DuplicateRecord
from store.domain.ledger import (
    CLEARING,
    EXTERNAL_CASH,
    EXTERNAL_STARS,
    Transaction,
    transaction,
    wallet,
    wallet_owner,
)
from store.domain.model import LedgerEntry, LedgerReason

_WALLET_SOURCES = {LedgerReason.TOPUP: EXTERNAL_STARS}
"""Where a wallet movement written through `append` comes from; anything else, cash."""


def _rows(entry: Transaction, now: datetime) -> list[dict[str, object]]:
    return [
        {
            "user_id": wallet_owner(p.account),
            "account": p.account,
            "amount_minor": p.amount_minor,
            "reason": entry.reason.value,
            "idempotency_key": entry.idempotency_key,
            "order_id": entry.order_id,
            "case_id": entry.case_id,
            "stars": entry.stars if wallet_owner(p.account) is not None else None,
            "note": entry.note,
            "created_at": now,
        }
        for p in entry.postings
    ]


def _entry(r: Row[Any]) -> LedgerEntry:
    """A posting joined with its order's reference, as the wallet and statements show it."""
    return LedgerEntry(
        id=r.id,
        amount_minor=r.amount_minor,
        reason=LedgerReason(r.reason),
        created_at=as_utc(r.created_at),
        order_id=r.order_id,
        stars=r.stars,
        note=r.note,
        order_reference=r.reference,
        case_id=r.case_id,
    )


class SqlLedgerRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def post(self, entry: Transaction, now: datetime) -> bool:
        """Write a balanced transaction whole; false when its idempotency key was written before."""
        if not entry.postings:
            return True
        rows = _rows(entry, now)
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        # executemany with RETURNING: one multi-row INSERT, its SQL compiled once and cached
        result = await self._c.execute(
            dialect.insert(ledger_entries).on_conflict_do_nothing().returning(ledger_entries.c.id),
            rows,
        )
        written = len(result.all())
        if written not in (0, len(rows)):  # a key reused for other accounts: a bug, not a retry
            raise DuplicateRecord(f"ledger transaction {entry.idempotency_key} written in part")
        return written == len(rows)

    async def post_many(self, entries: Sequence[Transaction], now: datetime) -> None:
        """Write many new transactions at once (the settlement job's); any key used before is
        a bug (DuplicateRecord), since each one's record was claimed in this transaction."""
        rows = [row for entry in entries for row in _rows(entry, now)]
        if rows:
            await self._c.execute(insert(ledger_entries), rows)

    async def append(
        self,
        user_id: int,
        amount_minor: int,
        reason: LedgerReason,
        idempotency_key: str,
        now: datetime,
        order_id: int | None = None,
        *,
        stars: int | None = None,
        note: str | None = None,
    ) -> bool:
        """Money into (or out of) a wallet from outside: Stars for a top-up, else cash."""
        return await self.post(
            transaction(
                reason,
                idempotency_key,
                [
                    (wallet(user_id), amount_minor),
                    (_WALLET_SOURCES.get(reason, EXTERNAL_CASH), -amount_minor),
                ],
                order_id=order_id,
                stars=stars,
                note=None if note is None else note[:255],
            ),
            now,
        )

    async def balance(self, user_id: int) -> int:
        total = (
            await self._c.execute(
                select(func.coalesce(func.sum(ledger_entries.c.amount_minor), 0)).where(
                    ledger_entries.c.user_id == user_id
                )
            )
        ).scalar_one()
        return int(total)

    async def account_balance(self, account: str) -> int:
        total = (
            await self._c.execute(
                select(func.coalesce(func.sum(ledger_entries.c.amount_minor), 0)).where(
                    ledger_entries.c.account == account
                )
            )
        ).scalar_one()
        return int(total)

    async def posted(self, idempotency_key: str) -> dict[str, int]:
        """Account → amount, of the transaction written under this key (empty: none was)."""
        rows = await self._c.execute(
            select(ledger_entries.c.account, ledger_entries.c.amount_minor).where(
                ledger_entries.c.idempotency_key == idempotency_key[:128]
            )
        )
        return {account: int(amount) for account, amount in rows}

    async def written(self, idempotency_key: str) -> bool:
        found = await self._c.execute(
            select(ledger_entries.c.id)
            .where(ledger_entries.c.idempotency_key == idempotency_key[:128])
            .limit(1)
        )
        return found.first() is not None

    async def credited_for_order(self, order_id: int) -> int:
        """What the wallet has already been given back for an order (partial refunds)."""
        total = (
            await self._c.execute(
                select(func.coalesce(func.sum(ledger_entries.c.amount_minor), 0)).where(
                    and_(
                        ledger_entries.c.order_id == order_id,
                        ledger_entries.c.user_id.is_not(None),
                        ledger_entries.c.amount_minor > 0,
                    )
                )
            )
        ).scalar_one()
        return int(total)

    async def recent(self, user_id: int, limit: int) -> list[LedgerEntry]:
        rows = await self._c.execute(
            select(ledger_entries, orders.c.reference)
            .select_from(ledger_entries.outerjoin(orders, orders.c.id == ledger_entries.c.order_id))
            .where(ledger_entries.c.user_id == user_id)
            .order_by(ledger_entries.c.id.desc())
            .limit(limit)
        )
        return [_entry(r) for r in rows]

    async def postings_of(
        self, accounts: list[str], since: datetime | None
    ) -> list[tuple[LedgerEntry, str]]:
        """Every posting to these accounts, oldest first, with the account each was made to."""
        query = (
            select(ledger_entries, orders.c.reference)
            .select_from(ledger_entries.outerjoin(orders, orders.c.id == ledger_entries.c.order_id))
            .where(ledger_entries.c.account.in_(accounts))
            .order_by(ledger_entries.c.id)
        )
        if since is not None:
            query = query.where(ledger_entries.c.created_at >= since)
        return [(_entry(r), r.account) for r in await self._c.execute(query)]

    async def unbalanced(self) -> dict[str, int]:
        """Idempotency key → sum, of every transaction whose postings do not sum to zero."""
        total = func.sum(ledger_entries.c.amount_minor)
        rows = await self._c.execute(
            select(ledger_entries.c.idempotency_key, total)
            .group_by(ledger_entries.c.idempotency_key)
            .having(total != 0)
        )
        return {key: int(value) for key, value in rows}

    async def balances(self) -> dict[str, int]:
        rows = await self._c.execute(
            select(ledger_entries.c.account, func.sum(ledger_entries.c.amount_minor)).group_by(
                ledger_entries.c.account
            )
        )
        return {account: int(value) for account, value in rows}

    async def held_by_supplier(self) -> dict[str, int]:
        rows = await self._c.execute(
            select(escrow_holds.c.supplier_id, func.sum(escrow_holds.c.cost_minor))
            .where(escrow_holds.c.status == "held")
            .group_by(escrow_holds.c.supplier_id)
        )
        return {supplier: int(value) for supplier, value in rows}

    async def clearing_by_order(self) -> dict[int, tuple[int, str, int]]:
        """Order id → (what clearing holds for it, its status, its total), where not zero."""
        held = func.sum(ledger_entries.c.amount_minor)
        rows = await self._c.execute(
            select(ledger_entries.c.order_id, held, orders.c.status, orders.c.total_minor)
            .select_from(ledger_entries.outerjoin(orders, orders.c.id == ledger_entries.c.order_id))
            .where(ledger_entries.c.account == CLEARING)
            .group_by(ledger_entries.c.order_id, orders.c.status, orders.c.total_minor)
            .having(held != 0)
        )
        return {
            int(r.order_id or 0): (int(r[1]), str(r.status), int(r.total_minor or 0)) for r in rows
        }
