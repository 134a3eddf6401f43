"""Who is talking to the shop, and in which language, on fakes."""

from __future__ import annotations

from store.domain.model import Language, User
from store.services.user import choose_language, find_user, meet_user, register_user
from tests.conftest import FakeClock
from tests.fakes import FakeDatabase, FakeUnitOfWork


async def test_first_contact_remembers_the_user_and_their_apps_language(clock: FakeClock) -> None:
    db = FakeDatabase()
    user = await register_user(
        FakeUnitOfWork(db), user_id=7, first_name="Li", language=Language.ZH, now=clock.now()
    )
    assert user == User(7, "Li", Language.ZH)


async def test_a_second_contact_changes_nothing_already_known(clock: FakeClock) -> None:
    db = FakeDatabase()
    for name, language in (("Li", Language.ZH), ("Someone", Language.EN)):
        await register_user(
            FakeUnitOfWork(db), user_id=7, first_name=name, language=language, now=clock.now()
        )
    assert await find_user(FakeUnitOfWork(db), user_id=7) == User(7, "Li", Language.ZH)


async def test_a_chosen_language_replaces_the_apps(clock: FakeClock) -> None:
    db = FakeDatabase()
    await register_user(
        FakeUnitOfWork(db), user_id=7, first_name="Li", language=Language.ZH, now=clock.now()
    )
    await choose_language(
        FakeUnitOfWork(db), user_id=7, first_name="Li", language=Language.EN, now=clock.now()
    )
    assert (await find_user(FakeUnitOfWork(db), user_id=7)) == User(7, "Li", Language.EN)


async def test_choosing_a_language_before_first_contact_registers_the_user(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await choose_language(
        FakeUnitOfWork(db), user_id=8, first_name="Wang", language=Language.ZH, now=clock.now()
    )
    assert await find_user(FakeUnitOfWork(db), user_id=8) == User(8, "Wang", Language.ZH)


async def test_finding_a_user_only_reads() -> None:
    uow = FakeUnitOfWork()
    assert await find_user(uow, user_id=9) is None
    assert uow.opened == ["read"]


async def test_meeting_a_stranger_registers_them_in_their_apps_language(clock: FakeClock) -> None:
    db = FakeDatabase()
    language = await meet_user(
        FakeUnitOfWork(db), user_id=7, first_name="Li", app_language=Language.ZH, now=clock.now()
    )
    assert language is Language.ZH
    assert await find_user(FakeUnitOfWork(db), user_id=7) == User(7, "Li", Language.ZH)


async def test_meeting_a_known_user_answers_in_their_chosen_language_with_one_read(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    await choose_language(
        FakeUnitOfWork(db), user_id=7, first_name="Li", language=Language.EN, now=clock.now()
    )
    uow = FakeUnitOfWork(db)
    language = await meet_user(
        uow, user_id=7, first_name="Li", app_language=Language.ZH, now=clock.now()
    )
    assert language is Language.EN
    assert uow.opened == ["read"]
