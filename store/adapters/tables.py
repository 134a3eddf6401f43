"""The schema, as SQLAlchemy Core tables; Alembic migrations are written from it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Timestamp = DateTime(timezone=True)

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("first_name", String(128), nullable=False, default=""),
    Column("language", String(8), nullable=True),
    Column("created_at", Timestamp, nullable=False),
)

categories = Table(
    "categories",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("name_zh_hant", String(64), nullable=False, default="", server_default=""),
)

products = Table(
    "products",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("category_id", String(32), ForeignKey("categories.id"), nullable=False),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("description_zh", Text, nullable=False, default=""),
    Column("description_en", Text, nullable=False, default=""),
    Column("redeem_zh", Text, nullable=False, default=""),
    Column("redeem_en", Text, nullable=False, default=""),
    Column("name_zh_hant", String(64), nullable=False, default="", server_default=""),
    Column("description_zh_hant", Text, nullable=False, default="", server_default=""),
    Column("redeem_zh_hant", Text, nullable=False, default="", server_default=""),
    Column("price_minor", BigInteger, nullable=False),
    Column("price_stars", Integer, nullable=False),
    Column("order_limit", Integer, nullable=False),
    Column("low_stock_threshold", Integer, nullable=False, default=5),
    Column("low_stock_alerted", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("position", Integer, nullable=False, default=0),
)

suppliers = Table(
    "suppliers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("public_name", String(64), nullable=False),
    Column("contact", String(128), nullable=False, default=""),
    Column("public_key", LargeBinary, nullable=True),  # raw Ed25519, 32 bytes
    Column("status", String(10), nullable=False, default="active"),
    Column("created_at", Timestamp, nullable=False),
)

supplier_events = Table(
    "supplier_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("supplier_id", String(32), ForeignKey("suppliers.id"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", Timestamp, nullable=False),
    Index("ix_supplier_events_supplier", "supplier_id", "id"),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(32), ForeignKey("products.sku"), nullable=False),
    Column("source", String(255), nullable=False),
    Column("key_count", Integer, nullable=False),
    Column("imported_by", BigInteger, nullable=True),
    Column("imported_at", Timestamp, nullable=False),
    # staging → publishing → live; an import writes its keys in short transactions while staging
    # and makes them sellable in publishing, which resumes after a crash (see service/stock.py)
    Column("status", String(10), nullable=False, server_default="live"),
    Column("updated_at", Timestamp, nullable=True),
    Column(
        "supplier_id",
        String(32),
        ForeignKey("suppliers.id"),
        nullable=False,
        server_default="house",
    ),
    Column("cost_minor", BigInteger, nullable=True),
    Column("proof_sha256", String(64), nullable=True),
    Column("manifest_sha256", String(64), nullable=True),
    Column("manifest_signed", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_batches_status", "status"),
    Index("ix_batches_supplier", "supplier_id"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("sku", String(32), ForeignKey("products.sku"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("total_stars", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("payment_method", String(10), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("paid_at", Timestamp, nullable=True),
    Column("delivered_at", Timestamp, nullable=True),
    Column("revealed_at", Timestamp, nullable=True),
    Column("refunded_at", Timestamp, nullable=True),
    Column("notice_message_id", Integer, nullable=True),
    # the buyer's message that shows this order's progress: delivery edits it, so a repeat is an
    # edit of the same message rather than a second one
    Column("reference", String(9), nullable=False),
    # what buyers and agents call the order (store.domain.reference): random, so it tells
    # nothing of the shop's volume the way the id would
    Index("ix_orders_user_created", "user_id", "id"),
    Index("ix_orders_status_expires", "status", "expires_at"),
    Index("ix_orders_reference", "reference", unique=True),
)

card_keys = Table(
    "card_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(32), ForeignKey("products.sku"), nullable=False),
    Column("batch_id", Integer, ForeignKey("batches.id"), nullable=False),
    Column("ciphertext", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(12), nullable=False),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("sold_at", Timestamp, nullable=True),
    # provenance (store.domain.provenance): NULL only for keys imported before it, until
    # `backfill_provenance` gives them theirs; log_head is the leaf hash of the key's latest
    # log entry, which the next entry links to
    Column("trace_code", String(14), nullable=True),
    Column("trace_salt", String(32), nullable=True),
    Column("key_commitment", String(64), nullable=True),
    Column("log_head", String(64), nullable=True),
    UniqueConstraint("fingerprint"),
    Index("ix_card_keys_sku_status", "sku", "status", "id"),
    # the sell order, oldest batch first (store.domain.supplier.SellOrder): claiming walks it
    Index("ix_card_keys_sku_status_batch", "sku", "status", "batch_id", "id"),
    Index("ix_card_keys_order", "order_id"),
    Index("ix_card_keys_trace_code", "trace_code", unique=True),
)

card_key_events = Table(
    "card_key_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("card_key_id", Integer, ForeignKey("card_keys.id"), nullable=False),
    Column("event", String(16), nullable=False),
    Column("order_id", Integer, nullable=True),
    Column("at", Timestamp, nullable=False),
    # the event's transparency-log entry, written in the event's own transaction; `seq` (its
    # leaf index) is given later, by the sequencer, so no counter row is hot
    Column("entry", Text, nullable=True),
    Column("leaf_hash", String(64), nullable=True),
    Column("seq", BigInteger, nullable=True),
    Index("ix_card_key_events_key", "card_key_id"),
    Index("ix_card_key_events_seq", "seq", unique=True),
)

tlog_checkpoints = Table(
    "tlog_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("note", Text, nullable=False),  # the signed checkpoint, as published
    Column("signed_at", Timestamp, nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_id", String(128), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=True),
    Column("purpose", String(10), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("payload", String(128), nullable=False),
    Column("received_at", Timestamp, nullable=False),
    Column("refunded_at", Timestamp, nullable=True),
    Column("outcome", String(12), nullable=True),
    # applied | topup | awaiting (no stock yet) | refused (refunded: see refunds)
    UniqueConstraint("charge_id"),
)

ledger_entries = Table(
    # the postings of the double-entry ledger (store.domain.ledger): the rows sharing an
    # idempotency key are one transaction and sum to zero; a wallet's rows carry its user_id
    "ledger_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("reason", String(16), nullable=False),  # LedgerReason, with the parameters below
    Column("idempotency_key", String(128), nullable=False),
    Column("order_id", Integer, nullable=True),
    Column("stars", Integer, nullable=True),
    Column("note", String(255), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("account", String(48), nullable=False),
    Column("case_id", Integer, nullable=True),
    UniqueConstraint("idempotency_key", "account", name="uq_ledger_entries_posting"),
    Index("ix_ledger_entries_user", "user_id", "id"),
    Index("ix_ledger_entries_account", "account", "id"),
)

escrow_holds = Table(
    # one sold key's supplier cost, held until the after-sales window ends (担保)
    "escrow_holds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("card_key_id", Integer, ForeignKey("card_keys.id"), nullable=False),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("supplier_id", String(32), ForeignKey("suppliers.id"), nullable=False),
    Column("cost_minor", BigInteger, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("held_at", Timestamp, nullable=False),
    Column("status", String(10), nullable=False),  # held | released | cancelled
    Column("case_id", Integer, nullable=True),
    Column("closed_at", Timestamp, nullable=True),
    Index("ix_escrow_holds_due", "status", "held_at"),
    Index("ix_escrow_holds_order", "order_id"),
    Index("ix_escrow_holds_supplier", "supplier_id", "id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("order_id", Integer, nullable=True),
    Column("body", Text, nullable=False, default=""),
    Column("dedupe_key", String(128), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Timestamp, nullable=False),
    Column("claimed_at", Timestamp, nullable=True),
    Column("sent_at", Timestamp, nullable=True),
    UniqueConstraint("dedupe_key"),
    Index("ix_outbox_status", "status", "id"),
)

# --- after-sales and human support -------------------------------------------------------

agents = Table(
    "agents",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("display_name", String(64), nullable=False),
    # What buyers read ("07", or one chosen with /alias), never the Telegram name above.
    Column("alias", String(32), nullable=False),
    Column("on_duty", Boolean, nullable=False, default=False),
    Column("capacity", Integer, nullable=False, default=3),
    Column("active_ticket_id", Integer, nullable=True),
    Column("duty_changed_at", Timestamp, nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("case_id", Integer, nullable=True),
    Column("agent_id", BigInteger, nullable=True),
    Column("subject", String(200), nullable=False, default=""),
    Column("created_at", Timestamp, nullable=False),
    Column("assigned_at", Timestamp, nullable=True),
    Column("first_response_at", Timestamp, nullable=True),
    Column("waiting_since", Timestamp, nullable=True),
    Column("closed_at", Timestamp, nullable=True),
    Column("rating", Integer, nullable=True),
    Column("queue_message_id", Integer, nullable=True),
    Index("ix_tickets_status_priority", "status", "priority", "id"),
    Index("ix_tickets_user", "user_id", "id"),
    Index("ix_tickets_agent", "agent_id", "status"),
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("sender", String(8), nullable=False),
    Column("author_id", BigInteger, nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("media", String(10), nullable=True),
    Column("source_chat_id", BigInteger, nullable=True),
    Column("source_message_id", Integer, nullable=True),
    Column("relayed", Boolean, nullable=False, default=False),
    Column("created_at", Timestamp, nullable=False),
    Index("ix_ticket_messages_ticket", "ticket_id", "id"),
)

response_breaches = Table(
    "response_breaches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("target", String(8), nullable=False),
    Column("due_at", Timestamp, nullable=False),
    Column("recorded_at", Timestamp, nullable=False),
    UniqueConstraint("ticket_id", "target", "due_at", name="uq_response_breaches_once"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("card_key_id", Integer, ForeignKey("card_keys.id"), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("status", String(10), nullable=False),
    Column("screenshot", String(255), nullable=True),
    Column("decision_note", Text, nullable=True),  # sealed
    Column("replacement_key_id", Integer, nullable=True),
    Column("decided_by", BigInteger, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("decided_at", Timestamp, nullable=True),
    Index("ix_cases_user", "user_id", "id"),
    Index("ix_cases_key", "card_key_id"),
)

questions = Table(
    "questions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("language", String(2), nullable=False),
    Column("action", String(10), nullable=False),
    Column("entry_id", String(40), nullable=True),
    Column("score", Integer, nullable=False),
    Column("helpful", Boolean, nullable=True),
    Column("text", Text, nullable=False, default=""),  # sealed
    # what was asked: a ticket opened from "Talk to a human" starts with it
    Column("asked_at", Timestamp, nullable=False),
    Index("ix_questions_asked", "asked_at"),
)

conversation_states = Table(
    "conversation_states",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("state", String(32), nullable=False),
    Column("data", Text, nullable=False, default="{}"),
    Column("updated_at", Timestamp, nullable=False),
)


# --- durable intake, refunds and reconciliation ----------------------------------------------

inbox = Table(
    "inbox",
    metadata,
    # Telegram's update_id: an update is recorded here before getUpdates confirms it
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(24), nullable=False),
    Column("payload", Text, nullable=False),  # sealed with the card-key cipher; emptied once done
    Column("status", String(10), nullable=False),  # pending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("received_at", Timestamp, nullable=False),
    Column("handled_at", Timestamp, nullable=True),
    Index("ix_inbox_status", "status", "update_id"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("charge_id", String(128), nullable=False),  # the idempotency key
    Column("user_id", BigInteger, nullable=False),
    Column("order_id", Integer, nullable=True),
    Column("case_id", Integer, nullable=True),
    Column("reason", String(12), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),  # pending | done | failed
    Column("order_status_before", String(20), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(200), nullable=True),
    Column("requested_at", Timestamp, nullable=False),
    Column("claimed_at", Timestamp, nullable=True),
    Column("finished_at", Timestamp, nullable=True),
    UniqueConstraint("charge_id"),
    Index("ix_refunds_status", "status", "id"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

import_offers = Table(
    "import_offers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("admin_id", BigInteger, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("file_id", String(255), nullable=False),  # Telegram's name for the file, not its keys
    Column("file_name", String(255), nullable=False),
    Column("acceptable", Integer, nullable=False),
    Column("offered_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("taken_at", Timestamp, nullable=True),
    Column("supplier_id", String(32), nullable=False, default="house", server_default="house"),
)
