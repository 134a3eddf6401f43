"""Where a user is in a multi-step flow: each step its own type, stored as a name and JSON.

`flow_record` and `parse_flow` are the one place a step is written and read back; data that
does not parse (forged, or left by an older version) raises `BadPayload`, never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from store.domain.errors import BadPayload
from store.domain.model import CaseReason

DECLINING_CASE = "declining_case"
AWAITING_SCREENSHOT = "bad_key_screenshot"


@dataclass(frozen=True)
class DecliningCase:
    """An agent pressed Decline on a case: their next words are the reason the buyer reads."""

    case_id: int


@dataclass(frozen=True)
class AwaitingScreenshot:
    """A buyer reporting a key that does not work: a screenshot may follow, or Skip."""

    order_id: int
    key_id: int
    reason: CaseReason
    prompt_message_id: int | None = None
    """The message asking for it (its Skip button goes once the screenshot arrives)."""


FlowState = DecliningCase | AwaitingScreenshot


def flow_record(state: FlowState) -> tuple[str, str]:
    """The step's name and its data, as stored (the keys are those rows have always had)."""
    match state:
        case DecliningCase(case_id=case_id):
            return DECLINING_CASE, json.dumps({"case": case_id})
        case AwaitingScreenshot(
            order_id=order_id, key_id=key_id, reason=reason, prompt_message_id=prompt
        ):
            data: dict[str, object] = {"order": order_id, "key": key_id, "reason": reason.value}
            if prompt is not None:
                data["prompt"] = prompt
            return AWAITING_SCREENSHOT, json.dumps(data)


def parse_flow(name: str, stored: str) -> FlowState:
    """The step `flow_record` stored; anything else raises `BadPayload`."""
    try:
        data = json.loads(stored)
    except ValueError:
        raise BadPayload(f"flow {name[:32]!r}: the data is not JSON") from None
    if not isinstance(data, dict):
        raise BadPayload(f"flow {name[:32]!r}: expected an object")
    if name == DECLINING_CASE:
        _only(name, data, {"case"})
        return DecliningCase(_id(name, data, "case"))
    if name == AWAITING_SCREENSHOT:
        if "prompt" in data:
            _only(name, data, {"order", "key", "reason", "prompt"})
        else:  # written before the prompt was remembered
            _only(name, data, {"order", "key", "reason"})
        reason = data.get("reason")
        if reason not in {r.value for r in CaseReason}:
            raise BadPayload(f"flow {name}: unknown reason {str(reason)[:16]!r}")
        prompt = _id(name, data, "prompt") if "prompt" in data else None
        return AwaitingScreenshot(
            _id(name, data, "order"), _id(name, data, "key"), CaseReason(reason), prompt
        )
    raise BadPayload(f"unknown flow {name[:32]!r}")


def _only(name: str, data: dict[str, object], keys: set[str]) -> None:
    if set(data) != keys:
        raise BadPayload(f"flow {name}: expected exactly {', '.join(sorted(keys))}")


def _id(name: str, data: dict[str, object], key: str) -> int:
    value = data[key]
    if type(value) is not int or value <= 0:  # bool is an int to Python, not an id
        raise BadPayload(f"flow {name}: {key} must be a positive whole number")
    return value
