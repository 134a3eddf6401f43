"""A product name holding HTML's special characters, shown everywhere a name appears.

Telegram parses a message's text and caption as HTML, so there the name is escaped exactly once;
it shows button labels, callback alerts and invoice fields as written, so there nothing is escaped.
"""

from __future__ import annotations

import re

import pytest

from handlers.action import (
    Action,
    AnswerButton,
    AnswerPreCheckout,
    Button,
    CopyMessage,
    EditText,
    SendDocument,
    SendInvoice,
    SendText,
)
from handlers.context import ShopContext
from handlers.router import dispatch
from sandbox.html_entities import parse_html
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from tests.conftest import FakeClock
from tests.conversation.conftest import AGENT
from tests.conversation.test_shop_flow import button
from tests.conversation.test_support_flow import agent_says, reference_of, sent_later
from tests.factories import order_id_on, paid, pre_checkout, press, stocked_shop, text

on_sqlite = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

NAME = "A&B <X> \"Q\" 'q'"
NAME_ZH = "甲&乙 <丙> \"引\" '号'"
SKU = "HTML-1"
ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", re.IGNORECASE)


def html_fields(action: Action) -> list[str]:
    """What Telegram parses as HTML: a message's text and a caption."""
    match action:
        case SendText() | EditText():
            return [action.html]
        case SendDocument():
            return [action.caption_html]
        case CopyMessage():
            return [action.caption_html] if action.caption_html else []
    return []


def plain_fields(action: Action) -> list[str]:
    """What Telegram shows as written: labels, alerts, invoice fields, pre-checkout errors."""
    labels = [b.text for row in getattr(action, "keyboard", None) or () for b in row]
    match action:
        case AnswerButton():
            return [*labels, action.text or ""]
        case SendInvoice():
            return [*labels, action.title, action.description, action.label]
        case AnswerPreCheckout():
            return [action.error_message or ""]
    return labels


def labels(actions: list[Action]) -> list[str]:
    return [b.text for a in actions for row in getattr(a, "keyboard", None) or () for b in row]


def shown(actions: list[Action]) -> str:
    """The messages' text as Telegram shows it once it has parsed their HTML."""
    return "\n".join(parse_html(f).text for action in actions for f in html_fields(action))


def assert_escaped_once_and_plain_never(actions: list[Action]) -> None:
    for action in actions:
        for field in html_fields(action):
            shown = parse_html(field).text  # raises, as Telegram would, on a broken entity
            for name in (NAME, NAME_ZH):
                # Escaped twice would show `&amp;` or `&lt;` to the buyer; not at all, no parse.
                assert name.replace("&", "&amp;") not in shown, field
                assert "&lt;" not in shown and "&amp;" not in shown, field
        for field in plain_fields(action):
            assert not ENTITY.search(field), f"escaped plain text: {field!r} in {action!r}"


@pytest.fixture
async def shop(uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock) -> None:
    await stocked_shop(
        uow, cipher, clock, sku=SKU, stock=5, name_en=NAME, name_zh=NAME_ZH, price_stars=10
    )


@on_sqlite
@pytest.mark.usefixtures("shop")
async def test_a_name_with_html_characters_is_escaped_once_in_messages_and_never_in_labels(
    ctx: ShopContext,
) -> None:
    seen: list[Action] = []

    async def step(event: object) -> list[Action]:
        actions = await dispatch(event, ctx)  # type: ignore[arg-type]
        seen.extend(actions)
        return actions

    listed = await step(press("cat:game:0"))
    assert f"• {NAME} — ¥48.00" in shown(listed)
    assert any(label.startswith(f"{NAME} · ") for label in labels(listed))
    card = await step(press(f"prod:{SKU}"))
    assert f"{NAME}\nChina region" in shown(card)
    summary = await step(press(f"buy:{SKU}:1"))
    assert f"\n{NAME}\nTotal" in shown(summary)  # one key: no "×1" after the name
    order_id = await order_id_on(button(summary, "paystars:"), ctx.uow)
    reference = await reference_of(ctx, order_id)

    invoiced = await step(press(f"paystars:{order_id}"))
    [invoice] = [a for a in invoiced if isinstance(a, SendInvoice)]
    assert invoice.description == NAME and invoice.label == NAME
    assert invoice.title == f"Order {reference}"
    [answer] = [a for a in invoiced if isinstance(a, AnswerButton)]
    assert answer.text == "Complete the payment in the invoice below."

    orders = await step(text("/orders"))
    assert f"{reference} · {NAME} · awaiting payment" in labels(orders)

    await pay(ctx, invoice)
    delivered = await sent_later(ctx)
    seen.extend(delivered)
    assert f"order {reference}: {NAME}\n" in shown(delivered)

    refunds = await step(press("refunds"))
    assert f"↩️ Refund {reference} · {NAME}" in labels(refunds)
    detail = await step(press(f"order:{order_id}"))
    assert f"\n{NAME}\nAmount" in shown(detail)
    keys = await step(press(f"keys:{order_id}"))
    assert f"· {NAME}" in shown(keys)
    reportable = await step(press("bad:0"))
    assert f"{reference} · {NAME}" in labels(reportable)
    orders = await step(text("/orders"))
    assert f"{reference} · {NAME} · delivered" in labels(orders)

    await step(agent_says("/duty on"))
    await step(text("/human"))
    card_for_agent = [*await sent_later(ctx)]
    seen.extend(card_for_agent)
    assert f"{reference} {NAME} ×1" in shown(card_for_agent)
    assert any(isinstance(a, SendText) and a.chat_id == AGENT for a in card_for_agent)

    assert_escaped_once_and_plain_never(seen)


@on_sqlite
@pytest.mark.usefixtures("shop")
async def test_a_chinese_buyer_reads_the_chinese_name_escaped_once_and_labels_as_written(
    ctx: ShopContext,
) -> None:
    seen = [
        *await dispatch(press(f"prod:{SKU}", language_code="zh-hans"), ctx),
        *await dispatch(press(f"buy:{SKU}:1", language_code="zh-hans"), ctx),
    ]
    orders = await dispatch(text("/orders", language_code="zh-hans"), ctx)
    assert f"{NAME_ZH}\n国区" in shown(seen)
    assert any(f" · {NAME_ZH} · 待付款" in label for label in labels(orders))
    assert_escaped_once_and_plain_never([*seen, *orders])


def test_a_refusal_is_an_alert_as_written_for_a_press_and_escaped_once_for_a_command() -> None:
    from handlers.screen import refuse
    from handlers.text import say_plain
    from store.domain.model import Language

    said = say_plain(Language.EN, "error.refund", status=NAME)
    [alert] = refuse(press("order:1"), said)
    assert isinstance(alert, AnswerButton) and alert.alert
    assert alert.text == f"This order can't be refunded ({NAME})."
    [message] = refuse(text("/orders"), said)
    assert isinstance(message, SendText)
    assert parse_html(message.html).text == f"This order can't be refunded ({NAME})."


async def pay(ctx: ShopContext, invoice: SendInvoice) -> None:
    [ok] = await dispatch(pre_checkout(invoice.payload, invoice.stars), ctx)
    assert isinstance(ok, AnswerPreCheckout) and ok.ok, ok
    await dispatch(paid(invoice.payload, invoice.stars), ctx)


def test_button_labels_alerts_and_invoices_refuse_markup_and_messages_require_it() -> None:
    from markupsafe import Markup

    with pytest.raises(TypeError):
        Button(Markup("<b>x</b>"), "x")
    with pytest.raises(TypeError):
        AnswerButton("cb", Markup("x"), alert=True)
    with pytest.raises(TypeError):
        SendInvoice(1, Markup("t"), "d", "p", 1, "l")
    with pytest.raises(TypeError):
        SendText(1, "not markup")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        EditText(1, 2, "not markup")  # type: ignore[arg-type]
    assert SendText(1, Markup("&amp;")).html == "&amp;"
