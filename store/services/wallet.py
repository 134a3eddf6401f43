"""The wallet: a balance that is the sum of ledger entries, and admin credits."""

from __future__ import annotations

from datetime import datetime

from store.domain.errors import ShopError
from store.domain.model import LedgerReason, User, Wallet
from store.domain.outbox import WalletCredited
from store.services.ports import UnitOfWork


class CreditRefused(ShopError):
    pass


async def show_wallet(uow: UnitOfWork, *, user_id: int, recent: int = 5) -> Wallet:
    async with uow.reading():
        balance = await uow.ledger.balance(user_id)
        entries = await uow.ledger.recent(user_id, recent)
    return Wallet(user_id=user_id, balance_minor=balance, recent=entries)


async def credit_wallet(
    uow: UnitOfWork,
    *,
    user_id: int,
    amount_minor: int,
    reason: str,
    idempotency_key: str,
    now: datetime,
    tell_buyer: bool = False,
) -> tuple[Wallet, bool]:
    """An admin's credit (or, negative, a correction) for money taken outside Telegram.

    Returns the wallet and whether an entry was written (false: that idempotency key was used).
    A correction may not take the balance below zero. With `tell_buyer`, a credit written for
    someone who has used the bot is announced in their chat (through the outbox).
    """
    if amount_minor == 0 or not reason.strip() or not idempotency_key.strip():
        raise CreditRefused("amount, reason and idempotency key are all required")
    async with uow:
        await uow.users.ensure(user_id, "", now)
        await uow.users.lock(user_id)
        balance = await uow.ledger.balance(user_id)
        if balance + amount_minor < 0:
            raise CreditRefused(f"balance {balance} cannot go below zero")
        written = await uow.ledger.append(
            user_id,
            amount_minor,
            LedgerReason.ADMIN_CREDIT,
            f"admin:{idempotency_key.strip()}",
            now,
            note=reason.strip(),
        )
        balance = await uow.ledger.balance(user_id)
        entries = await uow.ledger.recent(user_id, 5)
        if (
            tell_buyer
            and written
            and amount_minor > 0
            and has_used_the_bot(await uow.users.get(user_id))
        ):
            await uow.outbox.add(
                WalletCredited(amount_minor, balance),
                user_id,
                f"credited:{user_id}:{idempotency_key.strip()}"[:128],
                now,
            )
        await uow.commit()
    return Wallet(user_id=user_id, balance_minor=balance, recent=entries), written


def has_used_the_bot(user: User | None) -> bool:
    """Someone the bot has met (and may write to): first contact records their language;
    a user row made by an admin's credit alone has none."""
    return user is not None and user.language is not None


async def knows_user(uow: UnitOfWork, *, user_id: int) -> bool:
    """Whether the user an admin is about to credit has ever used the bot."""
    async with uow.reading():
        return has_used_the_bot(await uow.users.get(user_id))
