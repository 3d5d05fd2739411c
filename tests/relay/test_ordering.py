"""The relay's ordering of one request's replies before they go to the web."""

from __future__ import annotations

import pytest

from meatlizard.inference.engine import GenerationStats
from meatlizard.relay.gateway import RelayFailed
from meatlizard.relay.ordering import AnswerText, InOrder, RepliesLost
from meatlizard.relay.wire import ChunkPayload, ErrorPayload, ResponsePayload


def chunk(sequence: int, text: str) -> ChunkPayload:
    return ChunkPayload(session_id="s", request_id="r", sequence=sequence, text=text)


def closing(text: str) -> ResponsePayload:
    return ResponsePayload(session_id="s", request_id="r", response=text, metrics={})


def texts(released: list[tuple[object, str]]) -> list[str]:
    return [tag for _, tag in released]


def test_a_first_attempt_passes_in_order_and_drops_repeats() -> None:
    order: InOrder[str] = InOrder(tolerant=False)
    assert texts(order.push(chunk(0, "a"), "c0")) == ["c0"]
    assert texts(order.push(chunk(0, "a"), "c0-again")) == []
    assert texts(order.push(chunk(1, "b"), "c1")) == ["c1"]
    assert texts(order.push(closing("ab"), "end")) == ["end"]
    assert order.closed


def test_a_first_attempt_with_a_gap_is_lost() -> None:
    order: InOrder[str] = InOrder(tolerant=False)
    order.push(chunk(0, "a"), "c0")
    with pytest.raises(RepliesLost):
        order.push(chunk(2, "c"), "c2")


def test_a_first_attempt_closed_short_is_lost() -> None:
    order: InOrder[str] = InOrder(tolerant=False)
    order.push(chunk(0, "a"), "c0")
    with pytest.raises(RepliesLost):
        order.push(closing("ab"), "end")


def test_a_retry_holds_early_replies_until_the_gap_fills() -> None:
    # Queued leftovers of the first attempt (chunk 2, the close) come before the resent answer.
    order: InOrder[str] = InOrder(tolerant=True)
    assert texts(order.push(chunk(2, "c"), "old-c2")) == []
    assert texts(order.push(closing("abc"), "old-end")) == []
    assert texts(order.push(chunk(0, "a"), "c0")) == ["c0"]
    assert texts(order.push(chunk(1, "b"), "c1")) == ["c1", "old-c2", "old-end"]
    assert order.closed
    assert texts(order.push(chunk(2, "c"), "c2")) == []
    assert texts(order.push(closing("abc"), "end")) == []


def test_an_error_closes_at_once() -> None:
    order: InOrder[str] = InOrder(tolerant=True)
    order.push(chunk(1, "b"), "c1")
    error = ErrorPayload(session_id="s", request_id="r", error_message="boom")
    assert texts(order.push(error, "err")) == ["err"]
    assert order.closed


def test_a_gateway_shows_each_chunk_once_in_order_and_counts_them() -> None:
    stats = GenerationStats()
    answer = AnswerText(stats, 0.0, lost="lost")
    assert answer.push(chunk(0, "Hel")) == (["Hel"], False)
    assert answer.push(chunk(0, "Hel")) == ([], False)  # redelivered: shown already
    assert answer.push(chunk(1, "lo")) == (["lo"], False)
    assert answer.push(closing("Hello")) == ([], True)
    assert (answer.shown, stats.token_count) == (2, 2)
    assert stats.time_to_first_token is not None


def test_the_closing_response_gives_the_token_count_of_chunks_carrying_several() -> None:
    stats = GenerationStats()
    answer = AnswerText(stats, 0.0, lost="lost")
    answer.push(chunk(0, "Hello, wor"))  # the client-bot merges what one message carries
    response = ResponsePayload(
        session_id="s", request_id="r", response="Hello, world", metrics={"tokens": 4}
    )
    assert answer.push(chunk(1, "ld")) == (["ld"], False)
    assert answer.push(response) == ([], True)
    assert (answer.shown, stats.token_count) == (2, 4)


def test_a_gateway_answer_with_a_gap_or_an_error_fails_with_the_users_message() -> None:
    answer = AnswerText(GenerationStats(), 0.0, lost="part of the answer was lost")
    answer.push(chunk(0, "a"))
    with pytest.raises(RelayFailed, match="part of the answer was lost"):
        answer.push(chunk(2, "c"))
    failing = AnswerText(GenerationStats(), 0.0, lost="lost")
    with pytest.raises(RelayFailed, match="the model broke"):
        failing.push(ErrorPayload(session_id="s", request_id="r", error_message="the model broke"))


def test_a_gateway_answer_closed_short_is_never_shown_as_complete() -> None:
    answer = AnswerText(GenerationStats(), 0.0, lost="lost")
    answer.push(chunk(0, "a"))
    with pytest.raises(RelayFailed, match="lost"):
        answer.push(closing("ab"))


def test_a_gap_shortens_the_wait_and_names_what_is_missing() -> None:
    order: InOrder[str] = InOrder(gap_seconds=15.0)
    assert order.wait_limit(120.0) == 120.0  # nothing held: the usual stall limit
    assert texts(order.push(chunk(1, "b"), "c1")) == []  # overtook chunk 0
    assert order.waiting and order.wait_limit(120.0) == 15.0
    assert str(order.gave_up()) == "chunk 0 never came"
    assert texts(order.push(chunk(0, "a"), "c0")) == ["c0", "c1"]
    assert not order.waiting
    assert texts(order.push(closing("abc"), "end")) == []  # chunk 2 is still on its way
    assert order.waiting and str(order.gave_up()).startswith("the answer closed before")
    assert texts(order.push(chunk(2, "c"), "c2")) == ["c2", "end"]
    assert order.closed and not order.waiting
