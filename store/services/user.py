"""Who is talking to the shop, and in which language."""

from __future__ import annotations

from datetime import datetime

from store.domain.model import Language, User
from store.services.ports import UnitOfWork


async def register_user(
    uow: UnitOfWork, *, user_id: int, first_name: str, language: Language, now: datetime
) -> User:
    """First contact: remember the user and the language their Telegram app is in (also for
    someone an admin credited before they ever wrote: that row has no language yet)."""
    async with uow:
        await uow.users.ensure(user_id, first_name, now, language)
        user = await uow.users.get(user_id)
        if user is not None and user.language is None:
            await uow.users.set_language(user_id, language)
            user = await uow.users.get(user_id)
        await uow.commit()
    assert user is not None
    return user


async def meet_user(
    uow: UnitOfWork, *, user_id: int, first_name: str, app_language: Language, now: datetime
) -> Language:
    """The language to answer someone in: the one they chose, else their Telegram app's. A
    known user costs one read; first contact registers them."""
    async with uow.reading():
        user = await uow.users.get(user_id)
    if user is None or user.language is None:
        user = await register_user(
            uow, user_id=user_id, first_name=first_name, language=app_language, now=now
        )
    return user.language or app_language


async def find_user(uow: UnitOfWork, *, user_id: int) -> User | None:
    async with uow.reading():
        return await uow.users.get(user_id)


async def language_of(uow: UnitOfWork, user_id: int) -> Language:
    """Inside the caller's transaction: the language to write to someone in (English if none
    is known), for a message they did not prompt (a relay, a notice)."""
    user = await uow.users.get(user_id)
    return user.language if user is not None and user.language is not None else Language.EN


async def choose_language(
    uow: UnitOfWork, *, user_id: int, first_name: str, language: Language, now: datetime
) -> None:
    async with uow:
        await uow.users.ensure(user_id, first_name, now)
        await uow.users.set_language(user_id, language)
        await uow.commit()
