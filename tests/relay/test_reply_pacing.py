"""A client-bot joins the pieces of a fast stream so that replies go out at a bounded rate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from meatlizard.inference.engine import InferenceError
from meatlizard.relay.answering import paced


async def _burst(pieces: list[str]) -> AsyncIterator[str]:
    for piece in pieces:
        yield piece  # no wait between them: all are there before the reader wakes


async def test_pieces_that_come_together_go_as_one_reply() -> None:
    got = [reply async for reply in paced(_burst(list("lizard")), 0.05)]
    assert got == ["lizard"]


async def test_the_first_piece_goes_alone_and_the_rest_wait_for_the_interval() -> None:
    more = asyncio.Event()

    async def source() -> AsyncIterator[str]:
        yield "Hello"
        await more.wait()
        for piece in (",", " ", "world"):
            yield piece

    got = []
    async for reply in paced(source(), 0.05):
        got.append(reply)
        more.set()  # the rest arrives while the first reply is out
    assert got == ["Hello", ", world"]


async def test_a_failing_model_fails_the_reader_after_what_it_wrote() -> None:
    async def source() -> AsyncIterator[str]:
        yield "half an "
        raise InferenceError("the model failed")

    got = []
    with pytest.raises(InferenceError, match="the model failed"):
        async for reply in paced(source(), 0.05):
            got.append(reply)
    assert "".join(got) == "half an "


async def test_closing_the_reader_stops_the_model() -> None:
    stopped = asyncio.Event()

    async def endless() -> AsyncIterator[str]:
        try:
            while True:
                yield "x"
                await asyncio.sleep(0)
        finally:
            stopped.set()

    replies = paced(endless(), 0.001)
    assert (await anext(replies)).startswith("x")
    await replies.aclose()  # type: ignore[attr-defined]
    assert stopped.is_set()
