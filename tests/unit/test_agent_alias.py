"""Agents' aliases: the only name of theirs a buyer reads."""

from __future__ import annotations

import pytest

from store.domain.errors import AliasRefused, NotAnAgent
from store.domain.support import chosen_alias, default_alias
from store.services.agent_duty import set_alias
from tests.conftest import FakeClock
from tests.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_ticket import ANN, duty


def test_the_default_alias_is_the_agents_number_in_two_digits() -> None:
    assert [default_alias(n) for n in (1, 7, 12, 123)] == ["01", "07", "12", "123"]


def test_a_chosen_alias_is_tidied_and_one_that_cannot_be_a_name_is_refused() -> None:
    assert chosen_alias("  小美  ") == "小美"
    assert chosen_alias("Mei   Chen") == "Mei Chen"
    assert chosen_alias("x" * 16) == "x" * 16
    for bad in ("", "   ", "x" * 17, "\u200b", "a\u202eb", "a\x00b"):
        assert chosen_alias(bad) is None


async def test_agents_are_numbered_in_the_order_they_are_first_met(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock)
    async with FakeUnitOfWork(db) as tx:
        await tx.agents.ensure(901, "Bo", 3, clock.now())
        await tx.agents.ensure(ANN, "Ann", 3, clock.now())  # known already: keeps "01"
        await tx.commit()
    assert db.tables.agents[ANN].alias == "01" and db.tables.agents[901].alias == "02"


async def test_an_agent_sets_an_alias_and_someone_never_met_cannot(clock: FakeClock) -> None:
    db = FakeDatabase()
    await duty(db, clock)
    agent = await set_alias(FakeUnitOfWork(db), agent_id=ANN, alias=" 小美 ")
    assert agent.alias == "小美" and agent.display_name == "Ann"
    with pytest.raises(AliasRefused):
        await set_alias(FakeUnitOfWork(db), agent_id=ANN, alias="")
    with pytest.raises(NotAnAgent):
        await set_alias(FakeUnitOfWork(db), agent_id=12345, alias="Bo")
    assert db.tables.agents[ANN].alias == "小美"


async def test_an_agent_never_on_duty_yet_can_choose_an_alias_first(clock: FakeClock) -> None:
    db = FakeDatabase()
    agent = await set_alias(
        FakeUnitOfWork(db), agent_id=901, alias="小美", register_as=("Mei", 3, clock.now())
    )
    assert agent.alias == "小美" and not agent.on_duty
    assert db.tables.agents[901].display_name == "Mei"
