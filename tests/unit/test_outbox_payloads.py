"""Outbox payloads: each kind's type, written as JSON and read back, or refused."""

from __future__ import annotations

import pytest

from store.domain.errors import BadPayload
from store.domain.outbox import (
    PAYLOADS,
    AdminAlert,
    OutboxKind,
    OutboxPayload,
    QueuePosition,
    Refunded,
    ResponseBreach,
    TicketAssigned,
    parse_payload,
    payload_body,
)
from store.domain.support import Breach, ResponseTarget


def test_every_kind_has_a_payload_type_and_every_payload_type_names_its_kind() -> None:
    assert set(PAYLOADS) == set(OutboxKind)
    assert all(payload.kind is kind for kind, payload in PAYLOADS.items())


@pytest.mark.parametrize(
    "payload",
    [
        TicketAssigned(12),
        TicketAssigned(12, refresh=True),
        QueuePosition(3, handed_back=True),
        Refunded(480),
        Refunded(480, 7),
        AdminAlert("a <b> & “c”, 中文", None),
        ResponseBreach((Breach(1, ResponseTarget.FIRST), Breach(2, ResponseTarget.NEXT))),
        ResponseBreach(()),
    ],
)
def test_a_payload_reads_back_as_the_same_value(payload: OutboxPayload) -> None:
    assert parse_payload(payload.kind, payload_body(payload)) == payload


def test_breaches_are_typed_not_parsed_out_of_text() -> None:
    body = payload_body(ResponseBreach((Breach(12, ResponseTarget.FIRST),)))
    parsed = parse_payload("response_breach", body)
    assert isinstance(parsed, ResponseBreach)
    [breach] = parsed.breaches
    assert breach == Breach(12, ResponseTarget.FIRST) and breach.target is ResponseTarget.FIRST


@pytest.mark.parametrize(
    ("kind", "body", "why"),
    [
        ("ticket_assigned", "12", "expected an object"),
        ("ticket_assigned", "{not json", "not JSON"),
        ("ticket_assigned", "{}", "missing ticket_id"),
        ("ticket_assigned", '{"ticket_id": "12"}', "whole number"),
        ("ticket_assigned", '{"ticket_id": true}', "whole number"),
        ("ticket_assigned", '{"ticket_id": 1, "chat": 2}', "unknown field"),
        ("queue_position", '{"ticket_id": null}', "whole number"),
        ("queue_position", '{"ticket_id": 1, "handed_back": 1}', "true or false"),
        ("response_breach", '{"breaches": "first:12"}', "expected a list"),
        ("response_breach", '{"breaches": [{"ticket_id": 1, "target": "last"}]}', "unknown value"),
        ("admin_alert", '{"text": 5}', "expected text"),
        ("rate_ticket", '{"ticket_id": 1}', "unknown outbox kind"),
    ],
)
def test_a_body_that_does_not_parse_is_refused_saying_why(kind: str, body: str, why: str) -> None:
    with pytest.raises(BadPayload, match=why):
        parse_payload(kind, body)


def test_an_optional_field_may_be_left_out_but_not_given_the_wrong_type() -> None:
    assert parse_payload("refunded", '{"stars": 5}') == Refunded(5, None)
    assert parse_payload("refunded", '{"stars": 5, "order_id": null}') == Refunded(5, None)
    with pytest.raises(BadPayload):
        parse_payload("refunded", '{"stars": 5, "order_id": "7"}')
    assert QueuePosition(3).kind is OutboxKind.QUEUE_POSITION


def test_a_card_stored_before_refreshes_existed_still_tells_the_buyer() -> None:
    assert parse_payload("ticket_assigned", '{"ticket_id": 4}') == TicketAssigned(4, refresh=False)
