"""Flow steps: each its own type, stored as a name and JSON, and read back or refused."""

from __future__ import annotations

import pytest

from store.domain.errors import BadPayload
from store.domain.flow import AwaitingScreenshot, DecliningCase, FlowState, flow_record, parse_flow
from store.domain.model import CaseReason


@pytest.mark.parametrize(
    "step", [DecliningCase(4), AwaitingScreenshot(7, 12, CaseReason.WRONG_REGION)]
)
def test_a_step_reads_back_as_the_same_value(step: FlowState) -> None:
    assert parse_flow(*flow_record(step)) == step


def test_steps_stored_before_they_were_typed_still_read() -> None:
    assert parse_flow("declining_case", '{"case": 4}') == DecliningCase(4)
    stored = '{"order": 7, "key": 12, "reason": "redeemed"}'
    assert parse_flow("bad_key_screenshot", stored) == AwaitingScreenshot(
        7, 12, CaseReason.ALREADY_REDEEMED
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("declining_case", '{"case": "4"}'),
        ("declining_case", '{"case": true}'),
        ("declining_case", '{"case": -1}'),
        ("declining_case", '{"case": 4, "agent": 9}'),
        ("declining_case", "[4]"),
        ("declining_case", "not json"),
        ("bad_key_screenshot", '{"order": 7, "key": 12, "reason": "because"}'),
        ("bad_key_screenshot", '{"order": 7, "reason": "other"}'),
        ("choosing_quantity", "{}"),
    ],
)
def test_forged_or_unknown_data_is_refused(name: str, data: str) -> None:
    with pytest.raises(BadPayload):
        parse_flow(name, data)
