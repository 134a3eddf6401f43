"""A key file on its way in: who sent it, for which SKU, and how to read it again.

A refused file's "import the good lines" offer is kept in the database (store.services.
import_offer), naming the file by its file_id: Telegram keeps the file, so a press after a
restart, or on another worker, reads it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from store.domain.supplier import HOUSE_SUPPLIER


@dataclass(frozen=True)
class PendingImport:
    admin_id: int
    sku: str
    file_name: str
    download: Callable[[], Awaitable[bytes]]
    """The same file again: Telegram keeps it, so nothing of it is held here."""
    file_id: str = ""
    supplier_id: str = HOUSE_SUPPLIER
    """The caption's second word: whose keys these are."""
