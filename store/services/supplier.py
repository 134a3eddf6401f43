"""Suppliers: added by an admin, listed, and shown with their stock and standing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.domain.supplier import (
    CONTACT_LENGTH,
    NAME_LENGTH,
    Supplier,
    SupplierEvent,
    SupplierRefused,
    SupplierStatus,
    SupplierStock,
    ed25519_public_key,
    supplier_id,
)
from store.services.ports import NewUnitOfWork


@dataclass(frozen=True)
class SupplierReport:
    supplier: Supplier
    stock: list[SupplierStock]
    events: list[SupplierEvent]


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


async def supplier_report(new_uow: NewUnitOfWork, *, id: str) -> SupplierReport:
    """A supplier with its stock by product and every change of its standing."""
    async with new_uow().reading() as uow:
        supplier = await uow.suppliers.get(id)
        if supplier is None:
            raise SupplierRefused(f"no supplier {id}")
        return SupplierReport(
            supplier, await uow.suppliers.stock(id), await uow.suppliers.events(id)
        )


async def usable_supplier(new_uow: NewUnitOfWork, *, id: str) -> Supplier:
    """The supplier an import names, if it may put keys on sale."""
    async with new_uow().reading() as uow:
        supplier = await uow.suppliers.get(id)
    if supplier is None:
        raise SupplierRefused(f"no supplier {id} (add it: python -m bot supplier add {id} ...)")
    if supplier.status is not SupplierStatus.ACTIVE:
        raise SupplierRefused(f"supplier {id} is {supplier.status.value}: its keys are not sold")
    return supplier
