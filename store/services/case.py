""" "My key doesn't work": a case per report, replaced by rule or decided by an agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from store.domain.case import (
    ReplacementRules,
    bad_key_refund_due,
    key_label,
    not_reportable,
    refunds_through_telegram,
    replaces_automatically,
)
from store.domain.errors import KeysNotAvailable, NotFound, NotYourOrder, OutOfStock, ShopError
from store.domain.flow import AwaitingScreenshot
from store.domain.ledger import wallet
from store.domain.model import (
    Case,
    CaseReason,
    CaseStatus,
    Order,
    OrderStatus,
    TicketPriority,
)
from store.domain.outbox import CaseDecided
from store.services.books import book_bad_key_refund, book_replacement
from store.services.order import locked_order, move_order, owned_order
from store.services.ports import KeyCipher, NewUnitOfWork, UnitOfWork
from store.services.queue import Handoff, ask_for_human
from store.services.refund import StarRefunder, carry_out_refund, request_case_refund
from store.services.sealing import opened_case, seal_text
from store.services.supplier import note_bad_key

MAX_NOTE = 1000
"""Characters of an agent's decision note kept (the buyer reads it in one message)."""


class CaseClosed(ShopError):
    """The case was already decided."""


@dataclass(frozen=True)
class ReportedKey:
    key_id: int
    masked: str


@dataclass(frozen=True)
class CaseOutcome:
    case: Case
    replaced: bool
    handoff: Handoff | None = None


async def _reportable(uow: UnitOfWork, order: Order, key_id: int | None) -> None:
    refusal = not_reportable(order)
    if (
        refusal is None
        and key_id is not None
        and key_id not in {k for k, _ in await uow.card_keys.sold_keys(order.id)}
    ):
        refusal = "not_in_order"
    if refusal is not None:
        raise KeysNotAvailable(refusal)


async def keys_to_report(
    uow: UnitOfWork, *, user_id: int, order_id: int, cipher: KeyCipher
) -> list[ReportedKey]:
    """The buyer's keys in a revealed order, as labels, to pick the one that does not work."""
    async with uow.reading():
        order = await owned_order(uow, order_id, user_id)
        await _reportable(uow, order, None)
        keys = await uow.card_keys.sold_keys(order_id)
    return [
        ReportedKey(key_id, key_label(cipher.decrypt(token), position))
        for position, (key_id, token) in enumerate(keys, 1)
    ]


async def check_reportable(uow: UnitOfWork, *, user_id: int, order_id: int, key_id: int) -> None:
    """Each step of a report refuses another buyer's order, or a key not in it, at once."""
    async with uow.reading():
        order = await owned_order(uow, order_id, user_id)
        await _reportable(uow, order, key_id)


async def ask_for_screenshot(
    uow: UnitOfWork,
    *,
    user_id: int,
    order_id: int,
    key_id: int,
    reason: CaseReason,
    now: datetime,
    prompt_message_id: int | None = None,
) -> None:
    """The report's last step: the buyer's next photo is its screenshot (or they skip it)."""
    step = AwaitingScreenshot(order_id, key_id, reason, prompt_message_id)
    async with uow:
        order = await owned_order(uow, order_id, user_id)
        await _reportable(uow, order, key_id)
        await uow.states.put(user_id, step, now)
        await uow.commit()


async def report_bad_key(
    uow: UnitOfWork,
    *,
    user_id: int,
    first_name: str,
    order_id: int,
    key_id: int,
    reason: CaseReason,
    screenshot: str | None,
    now: datetime,
    rules: ReplacementRules,
    cipher: KeyCipher,
    screenshot_message: tuple[str, int] | None = None,
) -> CaseOutcome:
    """Open a case; replace the key at once when the rules allow, else queue it for an agent,
    who is shown the screenshot (`screenshot_message`: its media and message id, to copy).

    The report's steps end here, whatever comes of it.
    """
    async with uow:
        await uow.states.clear(user_id)
        await uow.commit()
    async with uow:
        order = await locked_order(uow, order_id, user_id)
        await _reportable(uow, order, key_id)
        first_report = await uow.cases.reports_on_key(key_id) == 0
        case_id = await uow.cases.add(
            user_id=user_id,
            order_id=order_id,
            card_key_id=key_id,
            reason=reason,
            screenshot=screenshot,
            created_at=now,
        )
        recent = await uow.cases.replacements_since(
            user_id, now - timedelta(days=rules.cooldown_days)
        )
        automatic = replaces_automatically(
            order, now, rules, first_report=first_report, recent_replacements=recent
        )
        if automatic and await _replace(
            uow, case_id, order_id, order.sku, key_id, now, decided_by=None
        ):
            case = await uow.cases.get(case_id)
            await uow.commit()
            assert case is not None
            return CaseOutcome(case, replaced=True)
        await uow.commit()
    summary = f"Bad key, order {order.reference}, reason: {reason.value}"
    handoff = await ask_for_human(
        uow,
        user_id=user_id,
        first_name=first_name,
        text=summary,
        now=now,
        priority=TicketPriority.BAD_KEY,
        kind="bad_key",
        case_id=case_id,
        cipher=cipher,
        attachment=screenshot_message,
    )
    async with uow.reading():
        case = await uow.cases.get(case_id)
    assert case is not None
    return CaseOutcome(case, replaced=False, handoff=handoff)


async def _replace(
    uow: UnitOfWork,
    case_id: int,
    order_id: int,
    sku: str,
    key_id: int,
    now: datetime,
    decided_by: int | None,
) -> bool:
    claimed = await uow.card_keys.claim(sku, order_id, 1, now)
    if len(claimed) != 1:
        return False
    await uow.card_keys.sell(order_id, now)
    order = await uow.orders.get(order_id)
    assert order is not None
    await book_replacement(
        uow, order, bad_key_id=key_id, new_key_id=claimed[0], case_id=case_id, now=now
    )
    await uow.card_keys.mark_bad(key_id, order_id, now)
    await note_bad_key(uow, card_key_id=key_id, now=now, rules=uow.supplier_rules)
    return await uow.cases.decide(
        case_id, CaseStatus.REPLACED, now, replacement_key_id=claimed[0], decided_by=decided_by
    )


async def decide_case(
    new_uow: NewUnitOfWork,
    *,
    agent_id: int,
    case_id: int,
    decision: CaseStatus,
    note: str,
    now: datetime,
    refunder: StarRefunder,
    cipher: KeyCipher,
) -> Case:
    """An agent confirms the key bad (replace or refund it) or declines with a reason for the buyer.

    Only the agent holding the buyer's conversation may decide, and only while the order still
    has its keys (a refunded order takes no replacement). A refund of a one-key order paid in
    Stars goes back through Telegram by the refund state machine; any other refund credits the
    key's price to the wallet, since a Stars refund cannot be partial, and never more in all
    than the order cost.
    """
    sealed_note = seal_text(cipher, note[:MAX_NOTE])
    async with new_uow() as uow:
        case, order = await _case_for_agent(uow, agent_id, case_id)
        credited = await uow.ledger.credited_for_order(order.id)
        stars_refund = decision is CaseStatus.REFUNDED and refunds_through_telegram(order, credited)
        if not stars_refund:
            await _decide_here(uow, case, order, decision, sealed_note, agent_id, now, credited)
            decided = await uow.cases.get(case_id)
            await uow.commit()
            assert decided is not None
            return opened_case(decided, cipher)
        charge_id = await uow.payments.charge_for_order(order.id)
        if charge_id is None:
            raise CaseClosed(order.status.value)
        await uow.cases.decide(
            case_id, CaseStatus.REFUNDED, now, decision_note=sealed_note, decided_by=agent_id
        )
        await request_case_refund(uow, order, case_id, charge_id, now)
        await uow.commit()
    await carry_out_refund(new_uow, refunder, charge_id=charge_id, now=now)
    async with new_uow().reading() as uow:
        decided = await uow.cases.get(case_id)
    assert decided is not None
    return opened_case(decided, cipher)


async def decline_case(
    new_uow: NewUnitOfWork,
    *,
    agent_id: int,
    case_id: int,
    note: str,
    now: datetime,
    cipher: KeyCipher,
) -> Case:
    """The reason an agent typed after Decline: the case is declined with it (the buyer reads
    it), and the step that asked for it ends, whatever comes of it."""
    async with new_uow() as uow:
        await uow.states.clear(agent_id)
        await uow.commit()
    sealed_note = seal_text(cipher, note[:MAX_NOTE])
    async with new_uow() as uow:
        case, order = await _case_for_agent(uow, agent_id, case_id)
        await _decide_here(uow, case, order, CaseStatus.DECLINED, sealed_note, agent_id, now, 0)
        decided = await uow.cases.get(case_id)
        await uow.commit()
    assert decided is not None
    return opened_case(decided, cipher)


async def _case_for_agent(uow: UnitOfWork, agent_id: int, case_id: int) -> tuple[Case, Order]:
    """The open case, if this agent holds its buyer's conversation."""
    case = await uow.cases.get(case_id)
    if case is None:
        raise NotFound(case_id)
    if not any(t.user_id == case.user_id for t in await uow.tickets.assigned_to(agent_id)):
        raise NotYourOrder(case.order_id)
    if case.status is not CaseStatus.OPEN:
        raise CaseClosed(case.status.value)
    order = await uow.orders.lock(case.order_id)
    assert order is not None
    if not order.has_keys:  # refunded (or being refunded) since the report
        raise CaseClosed(order.status.value)
    return case, order


async def _decide_here(
    uow: UnitOfWork,
    case: Case,
    order: Order,
    decision: CaseStatus,
    sealed_note: str,
    agent_id: int,
    now: datetime,
    credited: int,
) -> None:
    """Replace, decline, or refund to the wallet: all inside the caller's transaction."""
    if decision is CaseStatus.REPLACED:
        if not await _replace(uow, case.id, order.id, order.sku, case.card_key_id, now, agent_id):
            raise OutOfStock(available=0)
    elif decision is CaseStatus.DECLINED:
        await uow.cases.decide(
            case.id, CaseStatus.DECLINED, now, decision_note=sealed_note, decided_by=agent_id
        )
    else:
        due = bad_key_refund_due(order, credited)
        if due <= 0:
            raise CaseClosed(OrderStatus.REFUNDED.value)
        await uow.cases.decide(
            case.id, CaseStatus.REFUNDED, now, decision_note=sealed_note, decided_by=agent_id
        )
        await uow.card_keys.mark_bad(case.card_key_id, order.id, now)
        await note_bad_key(uow, card_key_id=case.card_key_id, now=now, rules=uow.supplier_rules)
        await book_bad_key_refund(
            uow,
            order,
            card_key_id=case.card_key_id,
            case_id=case.id,
            amount_minor=due,
            destination=wallet(order.user_id),
            now=now,
        )
        if credited + due >= order.total_minor:  # every key's price is back: the order is over
            await move_order(uow, order, OrderStatus.REFUNDED, refunded_at=now)
    await uow.outbox.add(CaseDecided(case.id), order.user_id, f"case:{case.id}", now)
