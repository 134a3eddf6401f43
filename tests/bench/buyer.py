"""Buyers in the conversation: one purchase is the four events a paying user causes."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from handlers.action import Action, AnswerButton, AnswerPreCheckout, EditText, SendText
from handlers.context import ShopContext
from handlers.router import dispatch
from tests.bench.latency import TimedRun
from tests.factories import order_id_on, paid, pre_checkout, press

STEPS = ("buy", "pre-checkout", "payment", "show keys")
_CODE = re.compile(r"<code>(.*?)</code>", re.DOTALL)


class PurchaseFailed(Exception):
    """A step answered differently from a successful purchase (the buyer saw an error)."""

    def __init__(self, step: str, user_id: int, actions: Sequence[Action], seconds: float) -> None:
        super().__init__(f"{step} by user {user_id} answered: {_shown(actions)}")
        self.step = step
        self.seconds = seconds


def _shown(actions: Sequence[Action]) -> str:
    """What the buyer saw, in short; never key material."""
    seen: list[str] = []
    for action in actions:
        if isinstance(action, AnswerButton):
            seen.append(f"popup {action.text!r}" if action.text else "button answered")
        elif isinstance(action, AnswerPreCheckout):
            seen.append(f"pre-checkout ok={action.ok} {action.error_message or ''}".rstrip())
        elif isinstance(action, SendText) and action.sensitive:
            seen.append("message <hidden>")
        elif isinstance(action, SendText | EditText):
            seen.append(f"message {action.html[:80]!r}")
        else:
            seen.append(type(action).__name__)
    return "; ".join(seen) or "nothing"


@dataclass(frozen=True)
class Purchase:
    order_id: int
    key: str
    seconds: float


def _pay_button(actions: Sequence[Action]) -> str | None:
    """The summary screen's `paystars:<reference>` button."""
    for action in actions:
        if isinstance(action, EditText) and action.keyboard:
            for row in action.keyboard:
                for button in row:
                    if button.data and button.data.startswith("paystars:"):
                        return button.data
    return None


def _revealed_key(actions: Sequence[Action]) -> str | None:
    shown = [a for a in actions if isinstance(a, SendText) and a.sensitive]
    if len(shown) != 1:
        return None
    keys = _CODE.findall(shown[0].html)
    return html.unescape(keys[0]) if keys else None  # the key; its trace code follows it


async def purchase(ctx: ShopContext, *, user_id: int, sku: str, stars: int) -> Purchase:
    """Buy one key: press Buy, pass pre-checkout, pay, press Show keys; each through `dispatch`."""
    started = time.perf_counter()

    def failed(step: str, actions: Sequence[Action]) -> PurchaseFailed:
        return PurchaseFailed(step, user_id, actions, time.perf_counter() - started)

    bought = await dispatch(press(f"buy:{sku}:1", user_id=user_id), ctx)
    pay = _pay_button(bought)
    if pay is None:
        raise failed("buy", bought)
    # The invoice a client gets on pressing Pay names the order by id: read it instead.
    order_id = await order_id_on(pay, ctx.uow)
    payload = f"order:{order_id}"
    answered = await dispatch(pre_checkout(payload, stars, user_id=user_id), ctx)
    if not (len(answered) == 1 and isinstance(answered[0], AnswerPreCheckout) and answered[0].ok):
        raise failed("pre-checkout", answered)
    receipt = await dispatch(paid(payload, stars, f"bench-charge-{order_id}", user_id=user_id), ctx)
    if receipt != []:  # the delivery, through the outbox, edits the summary: nothing else
        raise failed("payment", receipt)
    shown = await dispatch(press(f"keys:{order_id}", user_id=user_id), ctx)
    seconds = time.perf_counter() - started
    key = _revealed_key(shown)
    if key is None:
        raise failed("show keys", shown)
    return Purchase(order_id, key, seconds)


@dataclass
class BuyerRun:
    """Purchases that completed, timed together; and those where the buyer saw an error."""

    timed: TimedRun
    completed: list[Purchase] = field(default_factory=list)
    failed: list[PurchaseFailed] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.completed) + len(self.failed)


async def run_buyers(
    ctx: ShopContext, *, user_ids: Sequence[int], purchases: int, sku: str, stars: int
) -> BuyerRun:
    """Each user id is one buyer task buying one key after another until `purchases` are tried.

    A purchase the shop answers with an error is counted as failed, not retried; that buyer
    goes on with the next one, as a person would try again.
    """
    tickets: Iterator[int] = iter(range(purchases))  # shared: every buyer takes the next one
    completed: list[Purchase] = []
    failed: list[PurchaseFailed] = []

    async def buyer(user_id: int) -> None:
        for _ticket in tickets:
            try:
                completed.append(await purchase(ctx, user_id=user_id, sku=sku, stars=stars))
            except PurchaseFailed as error:
                failed.append(error)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as buyers:
        for user_id in user_ids:
            buyers.create_task(buyer(user_id), name=f"buyer-{user_id}")
    seconds = time.perf_counter() - started
    return BuyerRun(TimedRun(seconds, tuple(p.seconds for p in completed)), completed, failed)
