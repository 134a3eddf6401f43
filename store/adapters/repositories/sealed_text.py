"""Everything stored under the key cipher, walked in id order: card keys and sealed text.

For a passphrase rotation, which moves it all under the newest passphrase. The sealed columns
are walked alike by their columns, so one repository serves all five.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Table, and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.tables import card_keys, cases, inbox, questions, ticket_messages, tickets


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed text and the key to walk it by."""

    name: str
    key: Column[int]
    value: Column[str]

    @property
    def table(self) -> Table:
        table = self.value.table
        assert isinstance(table, Table)
        return table


SEALED_COLUMNS = {
    column.name: column
    for column in (
        SealedColumn("ticket_messages.body", ticket_messages.c.id, ticket_messages.c.body),
        SealedColumn("tickets.subject", tickets.c.id, tickets.c.subject),
        SealedColumn("questions.text", questions.c.id, questions.c.text),
        SealedColumn("cases.decision_note", cases.c.id, cases.c.decision_note),
        SealedColumn("inbox.payload", inbox.c.update_id, inbox.c.payload),
    )
}
"""Every column that holds what people type, sealed; by name ("table.column")."""


class SqlSealedTextRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def card_keys_after(self, after: int, limit: int) -> list[tuple[int, str, str]]:
        """(id, ciphertext, fingerprint) of the next `limit` keys after id `after`."""
        rows = await self._c.execute(
            select(card_keys.c.id, card_keys.c.ciphertext, card_keys.c.fingerprint)
            .where(card_keys.c.id > after)
            .order_by(card_keys.c.id)
            .limit(limit)
        )
        return [(int(key_id), str(token), str(fingerprint)) for key_id, token, fingerprint in rows]

    async def replace_card_key(
        self, key_id: int, token: str, *, ciphertext: str, fingerprint: str
    ) -> bool:
        """Rewrite a key read as `token`; false when the shop changed it since."""
        result = await self._c.execute(
            update(card_keys)
            .where(and_(card_keys.c.id == key_id, card_keys.c.ciphertext == token))
            .values(ciphertext=ciphertext, fingerprint=fingerprint)
        )
        return result.rowcount == 1

    async def sealed_after(self, column: str, after: int, limit: int) -> list[tuple[int, str]]:
        """(key, value) of the next `limit` non-empty values of a sealed column after `after`."""
        sealed = SEALED_COLUMNS[column]
        rows = await self._c.execute(
            select(sealed.key, sealed.value)
            .where(and_(sealed.key > after, sealed.value.is_not(None), sealed.value != ""))
            .order_by(sealed.key)
            .limit(limit)
        )
        return [(int(key), str(value)) for key, value in rows]

    async def replace_sealed(self, column: str, key: int, stored: str, sealed: str) -> bool:
        """Rewrite a value read as `stored`; false when the shop changed it since."""
        target = SEALED_COLUMNS[column]
        result = await self._c.execute(
            update(target.table)
            .where(and_(target.key == key, target.value == stored))
            .values({target.value.name: sealed})
        )
        return result.rowcount == 1
