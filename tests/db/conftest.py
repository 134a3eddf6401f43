"""What the command-line tests share: a settings environment on a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """The environment `python -m bot` reads, for a shop of its own in `tmp_path`."""
    return {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        "CARD_KEY_SECRET": "a cli passphrase that is longer than 32 characters",
        "LOG_LEVEL": "WARNING",
    }
