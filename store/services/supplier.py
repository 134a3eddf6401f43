"""Suppliers: added by an admin, listed, and shown with their stock and standing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from store.domain.outbox import ADMINS_CHAT, AdminAlert
from store.domain.supplier import (
    CONTACT_LENGTH,
    NAME_LENGTH,
    Supplier,
    SupplierEvent,
    SupplierRefused,
    SupplierRules,
    SupplierStanding,
    SupplierStatus,
    SupplierStock,
    SupplierSuspended,
    Suspension,
    UnknownSupplier,
    answers_automatically,
    deposit_sufficient,
    ed25519_public_key,
    invalid_rate_crossed,
    invalid_rate_reason,
    supplier_id,
)
from store.services.books import supplier_money
from store.services.ports import NewUnitOfWork, UnitOfWork

SYSTEM = "system"
"""The actor of a change no person made: an automatic suspension."""


@dataclass(frozen=True)
class SupplierReport:
    supplier: Supplier
    stock: list[SupplierStock]
    events: list[SupplierEvent]
    standing: SupplierStanding = field(default_factory=lambda: SupplierStanding(0, 0))
    """Keys sold in the rules' window, and of them those confirmed bad."""
    window_days: int = 30
    deposit_minor: int = 0
    """From the ledger: the deposit, escrow held, settled payable, and what was paid out."""
    escrow_minor: int = 0
    payable_minor: int = 0
    paid_out_minor: int = 0

    @property
    def frozen(self) -> int:
        return sum(s.frozen for s in self.stock)


class FrozenStock(StrEnum):
    """What reinstating a supplier does with its frozen keys."""

    RELEASE = "release"
    WRITE_OFF = "write-off"


@dataclass(frozen=True)
class Reinstatement:
    supplier: Supplier
    settled: int
    """Frozen keys released back on sale, or written off."""
    frozen: FrozenStock


async def add_supplier(
    new_uow: NewUnitOfWork,
    *,
    id: str,
    name: str,
    public_name: str | None,
    contact: str,
    public_key: str | None,
    actor: str,
    now: datetime,
) -> Supplier:
    """A new, active supplier; SupplierRefused for a bad id, name or key, or an id in use."""
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise SupplierRefused(f"a supplier's name is 1-{NAME_LENGTH} characters")
    shown = (public_name or name).strip()
    if len(shown) > NAME_LENGTH:
        raise SupplierRefused(f"a public name is at most {NAME_LENGTH} characters")
    if len(contact) > CONTACT_LENGTH:
        raise SupplierRefused(f"a contact is at most {CONTACT_LENGTH} characters")
    supplier = Supplier(
        id=supplier_id(id),
        name=name,
        public_name=shown,
        contact=contact.strip(),
        public_key=ed25519_public_key(public_key) if public_key else None,
        status=SupplierStatus.ACTIVE,
        created_at=now,
    )
    event = SupplierEvent(supplier.id, SupplierStatus.ACTIVE, "added", actor, now)
    async with new_uow() as uow:
        if not await uow.suppliers.add(supplier, event):
            raise SupplierRefused(f"there is already a supplier {supplier.id}")
        await uow.commit()
    return supplier


async def list_suppliers(new_uow: NewUnitOfWork) -> list[Supplier]:
    async with new_uow().reading() as uow:
        return await uow.suppliers.all()


async def supplier_report(new_uow: NewUnitOfWork, *, id: str, now: datetime) -> SupplierReport:
    """A supplier with its stock by product, its record in the window, and every change of
    its standing."""
    async with new_uow().reading() as uow:
        supplier = await uow.suppliers.get(id)
        if supplier is None:
            raise SupplierRefused(f"no supplier {id}")
        rules = uow.supplier_rules
        money = await supplier_money(uow, id)
        return SupplierReport(
            supplier,
            await uow.suppliers.stock(id),
            await uow.suppliers.events(id),
            await uow.suppliers.standing(id, rules.window_start(now)),
            rules.window_days,
            deposit_minor=money.deposit_minor,
            escrow_minor=money.escrow_minor,
            payable_minor=money.payable_minor,
            paid_out_minor=money.paid_out_minor,
        )


async def suspend_in(
    uow: UnitOfWork, supplier_id: str, *, reason: str, actor: str, now: datetime
) -> Suspension | None:
    """In the caller's transaction: the supplier suspended, its unsold stock frozen and
    admins alerted; None if it was suspended already."""
    event = SupplierEvent(supplier_id, SupplierStatus.SUSPENDED, reason, actor, now)
    if not await uow.suppliers.change_status(event):
        return None
    frozen = await uow.card_keys.freeze_supplier(supplier_id, now)
    await uow.outbox.add(
        AdminAlert(
            f"Supplier {supplier_id} is suspended ({actor}): {reason}. {frozen} unsold key(s) "
            "frozen; replacements come from other suppliers. "
            f"Lift it with: python -m bot supplier reinstate {supplier_id} --reason …"
        ),
        ADMINS_CHAT,
        f"alert:suspended:{supplier_id}:{now.isoformat()}",
        now,
    )
    return Suspension(supplier_id, reason, frozen)


async def note_bad_key(
    uow: UnitOfWork, *, card_key_id: int, now: datetime, rules: SupplierRules
) -> Suspension | None:
    """In the caller's transaction, right after a key was confirmed bad: its supplier's
    invalid rate over the window, and its suspension when the rate crosses the ceiling."""
    supplier_id = await uow.card_keys.supplier_of(card_key_id)
    if supplier_id is None or not answers_automatically(supplier_id):
        return None
    supplier = await uow.suppliers.get(supplier_id)
    if supplier is None or supplier.status is SupplierStatus.SUSPENDED:
        return None
    standing = await uow.suppliers.standing(supplier_id, rules.window_start(now))
    if not invalid_rate_crossed(standing, rules):
        return None
    return await suspend_in(
        uow, supplier_id, reason=invalid_rate_reason(standing, rules), actor=SYSTEM, now=now
    )


async def suspend_supplier(
    new_uow: NewUnitOfWork, *, id: str, reason: str, actor: str, now: datetime
) -> Suspension:
    """An admin suspends a supplier: its unsold stock is frozen at once."""
    if not reason.strip():
        raise SupplierRefused("a suspension needs a reason")
    async with new_uow() as uow:
        if await uow.suppliers.get(id) is None:
            raise SupplierRefused(f"no supplier {id}")
        suspension = await suspend_in(uow, id, reason=reason.strip(), actor=actor, now=now)
        if suspension is None:
            raise SupplierRefused(f"supplier {id} is suspended already")
        await uow.commit()
    return suspension


async def reinstate_supplier(
    new_uow: NewUnitOfWork,
    *,
    id: str,
    reason: str,
    frozen: FrozenStock,
    actor: str,
    now: datetime,
) -> Reinstatement:
    """An admin lifts a suspension; the frozen keys go back on sale or are written off."""
    if not reason.strip():
        raise SupplierRefused("a reinstatement needs a reason")
    event = SupplierEvent(id, SupplierStatus.ACTIVE, reason.strip(), actor, now)
    async with new_uow() as uow:
        supplier = await uow.suppliers.get(id)
        if supplier is None:
            raise SupplierRefused(f"no supplier {id}")
        if not await uow.suppliers.change_status(event):
            raise SupplierRefused(f"supplier {id} is not suspended")
        settled = await uow.card_keys.settle_frozen(id, frozen is FrozenStock.RELEASE, now)
        reinstated = await uow.suppliers.get(id)
        await uow.commit()
    assert reinstated is not None
    return Reinstatement(reinstated, settled, frozen)


async def may_put_on_sale(uow: UnitOfWork, supplier: Supplier, rules: SupplierRules) -> bool:
    """Whether the supplier's deposit lets a new batch go on sale (the house needs none)."""
    if supplier.status is not SupplierStatus.ACTIVE:
        return False
    if rules.min_deposit_minor <= 0 or not answers_automatically(supplier.id):
        return True
    deposit = await uow.ledger.account_balance(f"deposit:{supplier.id}")
    return deposit_sufficient(supplier.id, deposit, rules)


async def usable_supplier(new_uow: NewUnitOfWork, *, id: str) -> Supplier:
    """The supplier an import names, if it may put keys on sale."""
    async with new_uow().reading() as uow:
        supplier = await uow.suppliers.get(id)
    if supplier is None:
        raise UnknownSupplier(f"no supplier {id} (add it: python -m bot supplier add {id} ...)")
    if supplier.status is not SupplierStatus.ACTIVE:
        raise SupplierSuspended(f"supplier {id} is {supplier.status.value}: its keys are not sold")
    return supplier
