"""a key's log head follows its newest log entry, kept by the database

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 01:30:00

`card_keys.log_head` is the leaf hash of the key's latest entry in the transparency log. It was
written by a statement of its own after each entry, one more per event and three more per
purchase; a trigger on `card_key_events` now sets it in the same statement as the entry (an
event row without an entry yet, from before trace codes, leaves it alone). The downgrade drops
the trigger, and the code that wrote the head itself comes back with it.
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_SQLITE = """
CREATE TRIGGER card_key_events_log_head AFTER INSERT ON card_key_events
WHEN NEW.leaf_hash IS NOT NULL
BEGIN
    UPDATE card_keys SET log_head = NEW.leaf_hash WHERE id = NEW.card_key_id;
END
"""

_POSTGRESQL_FUNCTION = """
CREATE FUNCTION card_key_events_log_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE card_keys SET log_head = NEW.leaf_hash WHERE id = NEW.card_key_id;
    RETURN NULL;
END
$$
"""

_POSTGRESQL_TRIGGER = """
CREATE TRIGGER card_key_events_log_head AFTER INSERT ON card_key_events
FOR EACH ROW WHEN (NEW.leaf_hash IS NOT NULL) EXECUTE FUNCTION card_key_events_log_head()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRESQL_FUNCTION)
        op.execute(_POSTGRESQL_TRIGGER)
    else:
        op.execute(_SQLITE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER card_key_events_log_head ON card_key_events")
        op.execute("DROP FUNCTION card_key_events_log_head()")
    else:
        op.execute("DROP TRIGGER card_key_events_log_head")
