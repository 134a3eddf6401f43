"""Who is talking to the shop, and in which language."""

from __future__ import annotations

from datetime import datetime

from store.adapters.unit_of_work import UnitOfWork
from store.domain.model import Language, User


async def register_user(
    uow: UnitOfWork, *, user_id: int, first_name: str, language: Language, now: datetime
) -> User:
    """First contact: remember the user and the language their Telegram app is in."""
    async with uow:
        await uow.users.ensure(user_id, first_name, now, language)
        user = await uow.users.get(user_id)
        await uow.commit()
    assert user is not None
    return user


async def find_user(uow: UnitOfWork, *, user_id: int) -> User | None:
    async with uow:
        return await uow.users.get(user_id)


async def choose_language(
    uow: UnitOfWork, *, user_id: int, first_name: str, language: Language, now: datetime
) -> None:
    async with uow:
        await uow.users.ensure(user_id, first_name, now)
        await uow.users.set_language(user_id, language)
        await uow.commit()
