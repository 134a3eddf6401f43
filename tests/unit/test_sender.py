"""The outgoing sender on virtual time: pacing, order, priority, retries and forgetting chats."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest

from bot.sender import (
    Limits,
    OutgoingSender,
    PermanentSendError,
    Priority,
    RetryAfter,
    SendError,
    SenderStats,
    TransientSendError,
)

# A safety net against a hung sender, in real seconds; no assertion depends on real time.
DEADLINE = 5.0


class FakeTime:
    """Virtual seconds: `sleep` moves the clock on by the time asked and yields once.

    Moving the clock at once is exact only while one coroutine sleeps at a time (two concurrent
    sleeps of 1 s would move it by 2 s). The sender sleeps in one place, its dispatcher, so that
    holds here; the rate tests would still hold if it did not, as the sender re-checks its
    buckets after every sleep.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """The sender's injected sleep: virtual time moves on, the loop runs others once."""
        self.now += seconds
        await pass_turn()

    advance = sleep
    """What a test calls to let virtual time pass."""


async def pass_turn() -> None:
    """Let every other ready task run one step (no time passes, real or virtual)."""
    turn = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(turn.set_result, None)
    await turn


class RecordingCall:
    """A Bot API call that notes when it ran and fails with the errors it is given, in turn."""

    def __init__(
        self, time: FakeTime, name: str = "", errors: Iterable[BaseException] = ()
    ) -> None:
        self.time = time
        self.name = name
        self.errors = list(errors)
        self.ran_at: list[float] = []

    async def __call__(self) -> str:
        self.ran_at.append(self.time.now)
        if self.errors:
            raise self.errors.pop(0)
        return self.name


class Outbox:
    """Every successful call in the order Telegram received it, with its virtual time."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.received: list[tuple[float, int, str]] = []

    def message(self, chat_id: int, text: str) -> Callable[[], Awaitable[str]]:
        async def call() -> str:
            self.received.append((self.time.now, chat_id, text))
            return text

        return call

    def times(self) -> list[float]:
        return [at for at, _, _ in self.received]

    def texts(self) -> list[str]:
        return [text for _, _, text in self.received]


async def within_deadline(*aws: Awaitable[Any], return_exceptions: bool = False) -> list[Any]:
    async with asyncio.timeout(DEADLINE):
        return list(await asyncio.gather(*aws, return_exceptions=return_exceptions))


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def outbox(time: FakeTime) -> Outbox:
    return Outbox(time)


def sender_on(time: FakeTime, limits: Limits | None = None) -> OutgoingSender:
    return OutgoingSender(limits or Limits(), clock=time.clock, sleep=time.sleep)


# Pacing


async def test_a_second_message_to_the_same_chat_waits_about_a_second(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time, Limits(per_chat_burst=1))

    await within_deadline(
        sender.send(1, outbox.message(1, "first")), sender.send(1, outbox.message(1, "second"))
    )

    assert outbox.times() == [0.0, 1.0]


async def test_a_chat_gets_a_burst_of_three_then_one_message_a_second(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time)

    await within_deadline(*(sender.send(1, outbox.message(1, str(n))) for n in range(6)))

    assert outbox.times() == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]
    assert sender.stats.total_wait_seconds == pytest.approx(1.0 + 2.0 + 3.0)


async def test_a_chat_that_rested_gets_its_burst_back(time: FakeTime, outbox: Outbox) -> None:
    sender = sender_on(time)
    await within_deadline(*(sender.send(1, outbox.message(1, "early")) for _ in range(3)))

    await time.advance(3.0)
    await within_deadline(*(sender.send(1, outbox.message(1, "late")) for _ in range(3)))

    assert outbox.times() == [0.0, 0.0, 0.0, 3.0, 3.0, 3.0]


async def test_a_slow_chat_does_not_hold_up_other_chats(time: FakeTime, outbox: Outbox) -> None:
    sender = sender_on(time)

    await within_deadline(
        *(sender.send(1, outbox.message(1, f"busy {n}")) for n in range(6)),
        sender.send(2, outbox.message(2, "quiet")),
    )

    assert (0.0, 2, "quiet") in outbox.received
    assert [at for at, chat, _ in outbox.received if chat == 1] == [0, 0, 0, 1, 2, 3]


async def test_no_more_than_thirty_calls_go_out_in_any_second_across_a_hundred_chats(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time)

    await within_deadline(
        *(
            sender.send(chat, outbox.message(chat, f"{chat}/{n}"))
            for n in range(2)
            for chat in range(100)
        )
    )

    times = outbox.times()
    assert len(times) == 200
    assert times.count(0.0) == 30  # the initial burst: one second's worth of the bot's bucket
    after_burst = sorted(times)[30:]
    for start in after_burst:
        # 1e-9 for float rounding of sends spaced exactly 1/30 s apart
        in_window = [at for at in after_burst if start <= at < start + 1.0 - 1e-9]
        assert len(in_window) <= 30
    # Paced, not throttled further than the limit: 170 more calls at 30 a second.
    assert max(times) == pytest.approx(170 / 30)


# Order


async def test_calls_to_one_chat_run_in_the_order_they_were_submitted(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time)
    priorities = [Priority.MARKETING, Priority.DELIVERY, Priority.NOTICE, Priority.REPLY] * 3

    await within_deadline(
        *(
            sender.send(7, outbox.message(7, str(n)), priority=priority)
            for n, priority in enumerate(priorities)
        )
    )

    assert outbox.texts() == [str(n) for n in range(len(priorities))]


async def test_a_delivery_goes_before_marketing_when_both_wait_for_the_bot_limit(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time, Limits(per_bot_per_second=1.0))

    await within_deadline(
        sender.send(1, outbox.message(1, "offer a"), priority=Priority.MARKETING),
        sender.send(2, outbox.message(2, "offer b"), priority=Priority.MARKETING),
        sender.send(3, outbox.message(3, "offer c"), priority=Priority.MARKETING),
        sender.send(4, outbox.message(4, "card key"), priority=Priority.DELIVERY),
        sender.send(5, outbox.message(5, "reply"), priority=Priority.REPLY),
    )

    # Submitted last, sent first; equal priorities keep their order.
    assert outbox.texts() == ["card key", "reply", "offer a", "offer b", "offer c"]
    assert outbox.times() == [0.0, 1.0, 2.0, 3.0, 4.0]


async def test_a_429_keeps_later_messages_to_that_chat_behind_the_retry(time: FakeTime) -> None:
    sender = sender_on(time)
    first = RecordingCall(time, "first", errors=[RetryAfter(2)])
    second = RecordingCall(time, "second")

    results = await within_deadline(sender.send(1, first), sender.send(1, second))

    assert results == ["first", "second"]
    assert first.ran_at == [0.0, 2.0]
    assert second.ran_at == [2.0]


# Retries


async def test_retry_after_waits_that_long_then_succeeds_and_is_counted(time: FakeTime) -> None:
    sender = sender_on(time)
    call = RecordingCall(time, "sent", errors=[RetryAfter(3)])

    result = await within_deadline(sender.send(1, call))

    assert result == ["sent"]
    assert call.ran_at == [0.0, 3.0]
    assert sender.stats == SenderStats(sent=1, retried_after_429=1, total_wait_seconds=3.0)


async def test_a_429_pauses_only_its_own_chat(time: FakeTime) -> None:
    sender = sender_on(time)
    flooded = RecordingCall(time, "flooded", errors=[RetryAfter(3)])
    other = RecordingCall(time, "other")

    await within_deadline(sender.send(1, flooded), sender.send(2, other))

    assert other.ran_at == [0.0]
    assert flooded.ran_at == [0.0, 3.0]


async def test_a_call_that_keeps_hitting_429_gives_up_with_the_last_error(time: FakeTime) -> None:
    sender = sender_on(time, Limits(max_attempts=3))
    errors = [RetryAfter(1), RetryAfter(2), RetryAfter(4)]
    call = RecordingCall(time, errors=errors[:])

    with pytest.raises(RetryAfter) as raised:
        await within_deadline(sender.send(1, call))

    assert raised.value is errors[-1]
    assert call.ran_at == [0.0, 1.0, 3.0]
    assert sender.stats.retried_after_429 == 2
    assert sender.stats.failed == 1


async def test_a_chat_stays_paused_after_a_call_gives_up_on_a_429(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time, Limits(max_attempts=1))

    with pytest.raises(RetryAfter):
        await within_deadline(sender.send(1, RecordingCall(time, errors=[RetryAfter(5)])))
    await within_deadline(sender.send(1, outbox.message(1, "next")))

    assert outbox.times() == [5.0]


async def test_transient_errors_back_off_exponentially_then_raise_after_max_attempts(
    time: FakeTime,
) -> None:
    sender = sender_on(time)
    errors = [TransientSendError("502") for _ in range(5)]
    call = RecordingCall(time, errors=errors[:])

    with pytest.raises(TransientSendError) as raised:
        await within_deadline(sender.send(1, call))

    assert raised.value is errors[-1]
    assert call.ran_at == [0.0, 0.5, 1.5, 3.5, 7.5]
    assert sender.stats == SenderStats(
        transient_retries=4, failed=1, total_wait_seconds=0.5 + 1 + 2 + 4
    )


async def test_transient_backoff_is_capped(time: FakeTime) -> None:
    sender = sender_on(time, Limits(backoff_base=10.0, backoff_cap=15.0, max_attempts=4))
    call = RecordingCall(time, "sent", errors=[TransientSendError() for _ in range(3)])

    await within_deadline(sender.send(1, call))

    assert call.ran_at == [0.0, 10.0, 25.0, 40.0]


@pytest.mark.parametrize(
    "error", [TimeoutError(), ConnectionResetError(), OSError("network is unreachable")]
)
async def test_timeouts_and_os_errors_are_retried_like_transient_errors(
    time: FakeTime, error: BaseException
) -> None:
    sender = sender_on(time)
    call = RecordingCall(time, "sent", errors=[error])

    assert await within_deadline(sender.send(1, call)) == ["sent"]
    assert call.ran_at == [0.0, 0.5]
    assert sender.stats.transient_retries == 1


@pytest.mark.parametrize(
    "error", [PermanentSendError("403: bot was blocked by the user"), ValueError("a bug")]
)
async def test_a_permanent_error_is_raised_at_once_without_a_retry(
    time: FakeTime, error: Exception
) -> None:
    sender = sender_on(time)
    call = RecordingCall(time, errors=[error])

    with pytest.raises(type(error)) as raised:
        await within_deadline(sender.send(1, call))

    assert raised.value is error
    assert call.ran_at == [0.0]
    assert sender.stats == SenderStats(failed=1)


async def test_a_permanent_error_does_not_stop_the_next_call_to_that_chat(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time)

    results = await within_deadline(
        sender.send(1, RecordingCall(time, errors=[PermanentSendError("400")])),
        sender.send(1, outbox.message(1, "next")),
        return_exceptions=True,
    )

    assert isinstance(results[0], PermanentSendError)
    assert outbox.texts() == ["next"]


# Answers that Telegram does not count


async def test_uncounted_answers_skip_pacing_and_leave_the_chat_its_burst(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time, Limits(per_bot_per_second=2.0))

    await within_deadline(
        *(sender.send(1, outbox.message(1, "answer"), counts=False) for _ in range(10))
    )
    await within_deadline(*(sender.send(1, outbox.message(1, "message")) for _ in range(2)))

    assert outbox.times() == [0.0] * 12
    assert sender.tracked_chats == 1  # only the counted messages left state behind


async def test_uncounted_answers_still_wait_out_a_429(time: FakeTime) -> None:
    sender = sender_on(time)
    call = RecordingCall(time, "answered", errors=[RetryAfter(2)])

    assert await within_deadline(sender.send(1, call, counts=False)) == ["answered"]
    assert call.ran_at == [0.0, 2.0]
    assert sender.stats == SenderStats(sent=1, retried_after_429=1, total_wait_seconds=2.0)


# Memory and robustness


async def test_idle_chat_state_is_dropped(time: FakeTime, outbox: Outbox) -> None:
    sender = sender_on(time)

    await within_deadline(*(sender.send(chat, outbox.message(chat, "hi")) for chat in range(300)))
    # Only the chats sent to in the last second still have a bucket refilling; the rest are gone.
    assert sender.tracked_chats <= 31

    await time.advance(3.0)
    await within_deadline(sender.send(1000, outbox.message(1000, "later")))

    assert sender.tracked_chats == 1


async def test_a_chat_is_forgotten_once_its_bucket_has_refilled(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time, Limits(per_chat_burst=1))
    await within_deadline(sender.send(1, outbox.message(1, "hi")))
    assert sender.tracked_chats == 1

    await time.advance(1.0)
    await within_deadline(sender.send(2, outbox.message(2, "hi")))

    assert sender.tracked_chats == 1  # chat 1 is gone, chat 2 is refilling


async def test_a_chat_whose_bucket_refilled_during_a_slow_call_is_forgotten_when_it_ends(
    time: FakeTime,
) -> None:
    sender = sender_on(time, Limits(per_chat_burst=1))

    async def slow_call() -> str:
        await time.advance(2.0)
        return "sent"

    await within_deadline(sender.send(1, slow_call))

    assert sender.tracked_chats == 0


async def test_a_cancelled_call_gives_its_turn_to_the_next_one(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time, Limits(per_chat_burst=1))
    await within_deadline(sender.send(1, outbox.message(1, "first")))
    doomed = asyncio.ensure_future(sender.send(1, outbox.message(1, "cancelled")))
    after = asyncio.ensure_future(sender.send(1, outbox.message(1, "after")))
    await pass_turn()

    doomed.cancel()
    await within_deadline(after)

    assert doomed.cancelled()
    assert outbox.texts() == ["first", "after"]
    assert outbox.times() == [0.0, 1.0]


async def test_the_sender_leaves_no_task_behind_once_everything_is_sent(
    time: FakeTime, outbox: Outbox
) -> None:
    sender = sender_on(time)

    await within_deadline(
        *(sender.send(chat % 7, outbox.message(chat, "hi")) for chat in range(50))
    )
    await pass_turn()

    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_a_broken_sleep_fails_the_waiting_calls_instead_of_hanging_them(
    outbox: Outbox,
) -> None:
    async def broken_sleep(seconds: float) -> None:
        raise RuntimeError("no sleep for you")

    sender = OutgoingSender(Limits(per_chat_burst=1), clock=lambda: 0.0, sleep=broken_sleep)

    results = await within_deadline(
        sender.send(1, outbox.message(1, "first")),
        sender.send(1, outbox.message(1, "second")),
        return_exceptions=True,
    )

    assert results[0] == "first"
    assert isinstance(results[1], RuntimeError)


def test_send_errors_share_one_base() -> None:
    assert issubclass(RetryAfter, SendError)
    assert issubclass(TransientSendError, SendError)
    assert issubclass(PermanentSendError, SendError)
    assert RetryAfter(3).seconds == 3


@pytest.mark.parametrize(
    "bad",
    [
        {"per_bot_per_second": 0},
        {"per_chat_per_second": -1},
        {"per_chat_burst": 0},
        {"max_attempts": 0},
        {"backoff_base": -0.5},
    ],
)
def test_limits_refuse_values_that_would_stall_or_spin(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Limits(**bad)
