"""Tokens that come faster than a frame per TOKEN_FRAME_SECONDS share one frame; none is lost."""

from __future__ import annotations

from meatlizard.chat.token_frames import TOKEN_FRAME_SECONDS, TokenFrames
from tests.helpers import ManualClock


def test_the_first_token_goes_out_at_once_and_quick_ones_are_joined() -> None:
    clock = ManualClock(100.0)
    frames = TokenFrames(clock)
    assert frames.add("Once") == "Once"  # time to first token is never held
    clock.now += TOKEN_FRAME_SECONDS / 4
    assert frames.add(" upon") is None
    clock.now += TOKEN_FRAME_SECONDS / 4
    assert frames.add(" a") is None
    clock.now += TOKEN_FRAME_SECONDS  # the next token after the interval takes the held ones
    assert frames.add(" time") == " upon a time"
    clock.now += TOKEN_FRAME_SECONDS / 2
    assert frames.add(",") is None
    assert frames.flush() == ","  # the end of the answer (or an error) sends what is held
    assert frames.flush() is None


def test_slow_tokens_each_get_their_own_frame() -> None:
    clock = ManualClock(100.0)
    frames = TokenFrames(clock)
    sent = []
    for piece in ["a", "b", "c"]:
        sent.append(frames.add(piece))
        clock.now += TOKEN_FRAME_SECONDS * 2
    assert sent == ["a", "b", "c"]
    assert frames.flush() is None
