"""/trace CODE: a key's trace code with the key and on its order, its history for anyone who
has the code (never the buyer), and its receipt from the signed log as a file."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from handlers.action import Action, AnswerButton, SendDocument
from handlers.context import ShopContext
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.provenance import ReceiptRefused, verify_receipt
from store.domain.signed_note import Signer
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import button, buttons, buy_and_pay, html
from tests.factories import press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

ORIGIN = "kamibot.test/log"
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


@pytest.fixture
def signing(ctx: ShopContext) -> ShopContext:
    """The shop with a log signing key, as TRACE_SIGNING_KEY gives it one."""
    return replace(ctx, trace_signer=Signer.generate(ORIGIN), trace_origin=ORIGIN)


def popup(actions: list[Action]) -> str:
    [answer] = [a for a in actions if isinstance(a, AnswerButton)]
    assert answer.alert, answer
    return answer.text or ""


async def bought_code(ctx: ShopContext, user_id: int = 1001) -> tuple[int, str, str]:
    """A paid order of one key, revealed: its id, its reference and the key's trace code."""
    order_id = await buy_and_pay(ctx, user_id=user_id)
    shown = await dispatch(press(f"keys:{order_id}", user_id), ctx)
    [code] = CODE.findall(html(shown))
    order = await dispatch(press(f"order:{order_id}", user_id), ctx)
    reference = button(order, "keys:").split(":")[1]
    return order_id, reference, code


async def test_the_trace_code_is_shown_with_the_key_and_on_its_order(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx)
    shown = html(await dispatch(press(f"keys:{order_id}"), ctx))
    [code] = CODE.findall(shown)
    assert f"<code>{stocked[0]}</code>\nTrace code <code>{code}</code>" in shown
    assert "/trace CODE" in shown
    order = html(await dispatch(press(f"order:{order_id}"), ctx))
    assert f"<code>{code}</code>" in order and "/trace CODE" in order


async def test_the_owner_traces_the_key_to_its_history_and_their_own_order(
    signing: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    _, reference, code = await bought_code(signing)
    traced = await dispatch(text(f"/trace {code.lower()}"), signing)
    card = html(traced)
    assert f"Trace code {code}" in card
    assert "Steam Wallet ¥50 (STEAM-50)" in card
    assert "Supplier: 本店自营 / the shop&#39;s own stock" in card
    assert "Authorisation document: none" in card and "Supplier's signature: none" in card
    for step in ("imported", "held for an order", "sold", "shown to its buyer"):
        assert f": {step}\n" in card + "\n", step
    assert "Beijing time" in card
    assert "Sold once: never sold to anyone else." in card
    assert f"order {reference}" in card
    assert button(traced, "receipt:") == f"receipt:{code}"


async def test_a_stranger_with_the_code_sees_the_history_but_never_the_buyer(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    _, reference, code = await bought_code(ctx)
    card = html(await dispatch(text(f"/trace {code}", user_id=1002, language_code="zh-hans"), ctx))
    assert f"溯源码 {code}" in card and "售出" in card and "北京时间" in card
    assert "只售出过一次" in card
    for private in (reference, "1001", "Li", "您的卡密"):
        assert private not in card, private


async def test_an_unknown_or_malformed_code_reveals_nothing(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    await bought_code(ctx)
    for asked in ("/trace ZZZZ-ZZZZ-ZZZZ", "/trace hello", "/trace <b>&", "/trace 1001"):
        answer = await dispatch(text(asked, user_id=1002), ctx)
        assert html(answer).startswith("No key has this trace code"), asked
        assert not buttons(answer)
    usage = html(await dispatch(text("/trace", user_id=1002), ctx))
    assert "<code>/trace K7F3-2QX9-H4MP</code>" in usage


async def test_the_receipt_comes_as_a_file_that_verifies_offline_against_the_key(
    signing: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=2)
    _, _, code = await bought_code(signing)
    answer = await dispatch(press(f"receipt:{code}", user_id=1002), signing)
    [document] = [a for a in answer if isinstance(a, SendDocument)]
    assert document.file_name == f"receipt-{code}.txt"
    assert signing.trace_signer is not None
    vkey = str(signing.trace_signer.verifier)
    assert f"trace verify receipt-{code}.txt --vkey {vkey} --key" in document.caption_html
    checked = verify_receipt(document.content.decode(), signing.trace_signer.verifier, stocked[0])
    assert checked.key_checked and checked.entry["trace"] == code
    with pytest.raises(ReceiptRefused):
        verify_receipt(document.content.decode(), signing.trace_signer.verifier, stocked[1])


async def test_a_forged_receipt_button_is_refused_and_sends_no_file(
    signing: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    await bought_code(signing)
    unknown = await dispatch(press("receipt:ZZZZ-ZZZZ-ZZZZ", user_id=1002), signing)
    assert popup(unknown).startswith("No key has this trace code")
    for forged in ("receipt:../../etc/passwd", "receipt:zzzz-zzzz-zzzz", "receipt:1"):
        answer = await dispatch(press(forged, user_id=1002), signing)
        assert popup(answer) and not [a for a in answer if isinstance(a, SendDocument)], forged


async def test_without_a_signing_key_no_receipt_is_made(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    _, _, code = await bought_code(ctx)
    traced = await dispatch(text(f"/trace {code}"), ctx)
    assert f"Trace code {code}" in html(traced)
    assert not [b for b in buttons(traced) if b.data and b.data.startswith("receipt:")]
    answer = await dispatch(press(f"receipt:{code}"), ctx)  # an old button, or a forged one
    assert "receipts" in popup(answer)


async def test_a_keys_file_points_to_the_order_which_lists_every_trace_code(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=11, order_limit=20)
    order_id = await buy_and_pay(ctx, quantity=11)
    shown = await dispatch(press(f"keys:{order_id}"), ctx)
    [document] = [a for a in shown if isinstance(a, SendDocument)]
    assert "/trace CODE" in document.caption_html
    codes = CODE.findall(html(await dispatch(press(f"order:{order_id}"), ctx)))
    assert len(set(codes)) == 11
    first = html(await dispatch(text(f"/trace {codes[0]}"), ctx))
    assert "STEAM-50" in first and "This key is yours" in first
