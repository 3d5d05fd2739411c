"""The prompt guard on regenerate and edits, and admins' patterns that could not run."""

from __future__ import annotations

import asyncio
import logging

import pytest

from meatlizard.admin.models import AppSetting
from meatlizard.admin.moderation import MODERATION_KEY
from meatlizard.auth import service as auth_service
from meatlizard.auth.models import User
from meatlizard.chat import service as chat_service
from meatlizard.chat.flows import ChatEvent, Finished
from meatlizard.chat.guards import run_time_patterns
from meatlizard.chat.models import Role
from meatlizard.chat.schemas import SessionCreate
from meatlizard.core.errors import Refused
from meatlizard.core.patterns import PatternSet
from meatlizard.runtime import Services
from tests.helpers import PASSWORD, unique_name

REFUSAL = "That prompt was refused by this server's content rules."


async def _store_lists(services: Services, words: list[str], patterns: list[str]) -> None:
    """Write the admins' lists as they are stored, without the checks saving them makes."""
    async with services.sessions() as db:
        setting = await db.get(AppSetting, MODERATION_KEY)
        value = {"words": words, "patterns": patterns}
        if setting is None:
            db.add(AppSetting(key=MODERATION_KEY, value=value))
        else:
            setting.value = value
        await db.commit()


async def _chat(services: Services, system_prompt: str | None = None) -> tuple[User, str]:
    async with services.sessions() as db:
        user = await auth_service.register(db, username=unique_name(), password=PASSWORD)
        chat = await chat_service.create_session(
            db,
            user=user,
            data=SessionCreate(system_prompt=system_prompt),
            aliases=services.inference.aliases,
            default_alias=services.inference.aliases[0],
        )
        return user, chat.id


async def _ask(
    services: Services, user: User, session_id: str, prompt: str | None, **extra: object
) -> list[ChatEvent]:
    events = services.chat.answer(
        user=user,
        session_id=session_id,
        prompt=prompt,
        cancel=asyncio.Event(),
        **extra,  # type: ignore[arg-type]
    )
    return [event async for event in events]


async def _messages(services: Services, session_id: str) -> list[tuple[Role, str]]:
    async with services.sessions() as db:
        stored = await chat_service.all_messages(db, session_id=session_id)
    return [(m.role, m.content) for m in stored]


async def test_regenerate_is_checked_against_lists_set_since_the_prompt(
    services: Services,
) -> None:
    user, session_id = await _chat(services)
    assert isinstance((await _ask(services, user, session_id, "tell me of zorblax"))[-1], Finished)
    before = await _messages(services, session_id)
    await _store_lists(services, ["zorblax"], [])
    with pytest.raises(Refused) as refused:
        await _ask(services, user, session_id, None)
    assert str(refused.value) == f"the prompt to answer again: {REFUSAL}"
    assert await _messages(services, session_id) == before  # no second answer

    # An edit that leaves the word out is sent without the prompt it replaces.
    async with services.sessions() as db:
        prompt = (await chat_service.all_messages(db, session_id=session_id))[0]
    assert prompt.role is Role.USER
    prompt_id = prompt.id
    events = await _ask(services, user, session_id, "tell me of lizards", replaces=prompt_id)
    assert isinstance(events[-1], Finished)


async def test_earlier_prompts_and_the_system_prompt_are_checked(services: Services) -> None:
    user, session_id = await _chat(services)
    await _ask(services, user, session_id, "my code is 77-alpha")
    await _store_lists(services, [], [r"\d+-alpha"])
    with pytest.raises(Refused) as refused:
        await _ask(services, user, session_id, "and now?")
    assert str(refused.value) == f"an earlier prompt of this chat: {REFUSAL}"

    user, session_id = await _chat(services, system_prompt="You guard code 12-alpha.")
    with pytest.raises(Refused) as refused:
        await _ask(services, user, session_id, "hello")
    assert str(refused.value) == f"the chat's system prompt: {REFUSAL}"
    assert await _messages(services, session_id) == []


async def test_stored_patterns_that_cannot_run_are_skipped_with_a_warning(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # Saved before patterns were checked: a look-behind RE2 cannot run, a broken group,
    # and Python's inline-flag-in-the-middle that once broke every prompt.
    await _store_lists(services, ["zorblax"], [r"(?<=a)b", "(", "x(?i)ray", "qu+x"])
    run_time_patterns.cache_clear()  # the warning is logged once per version of the lists
    user, session_id = await _chat(services)
    with caplog.at_level(logging.WARNING, logger="meatlizard.chat.guards"):
        answered = await _ask(services, user, session_id, "a b c, nothing to refuse")
    assert isinstance(answered[-1], Finished)
    skipped = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert any("(?<=a)b" in line for line in skipped)
    assert any("'('" in line for line in skipped)
    for prompt in ("ZORBLAX!", "an XRAY", "quuuux"):  # the entries that can run still do
        with pytest.raises(Refused):
            await _ask(services, user, session_id, prompt)


async def test_a_backtracking_pattern_is_harmless_on_a_hostile_prompt(
    services: Services,
) -> None:
    await _store_lists(services, [], [r"(a+)+$", r"(x+x+)+y"])
    services.chat.guard.max_chars = 200_000
    user, session_id = await _chat(services)
    hostile = "a" * 50_000 + "!"  # Python's re would try 2**50000 ways before giving up
    events = await _ask(services, user, session_id, hostile)
    assert isinstance(events[-1], Finished)
    assert PatternSet([], [r"(x+x+)+y"]).search("x" * 100_000) is False
    with pytest.raises(Refused):
        await _ask(services, user, session_id, "a" * 50_000)


def test_words_are_whole_words_in_any_script_and_case() -> None:
    rules = PatternSet(["café", "c++", "zorblax"], [])
    assert rules.search("un CAFÉ noir")
    assert not rules.search("cafés")
    assert rules.search("I write c++ daily")
    assert rules.search("zorblax")
    assert not rules.search("zorblaxes or prezorblax")
