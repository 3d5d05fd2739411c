"""One turn of a chat: guards, persistence and streaming, shared by the web and the bots."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.auth.models import User
from meatlizard.chat import service
from meatlizard.chat.guards import PromptGuard, PromptPart
from meatlizard.chat.models import ChatMessage, ChatSession, MessageStatus, Role
from meatlizard.core.errors import InvalidInput
from meatlizard.core.metrics import GENERATED_TOKENS, GENERATIONS, TOKENS_PER_SECOND
from meatlizard.core.outages import (
    DatabaseUnavailable,
    retry_while_down,
    unavailable_while_down,
)
from meatlizard.inference.context import Conversation, PromptTooLong
from meatlizard.inference.engine import GenerationStats, InferenceError
from meatlizard.inference.scheduler import QueueListener
from meatlizard.inference.service import Answerer, InferenceGateway

log = logging.getLogger(__name__)
GENERIC_FAILURE = "the model failed while answering; press regenerate to try again"
NOT_SAVED = (
    "the answer could not be saved: the database is unavailable; copy it now, "
    "or press regenerate once the service is back"
)
# How long a finished answer waits for a database that is down before the user is told.
STORE_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Started:
    """The answer is about to stream; says which engine answers."""

    model_alias: str
    is_fallback: bool
    prompt_message_id: int


@dataclass(frozen=True)
class Token:
    """A piece of the answer."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The answer is stored."""

    message_id: int
    status: MessageStatus
    token_count: int
    tokens_per_second: float
    time_to_first_token: float | None
    is_fallback: bool
    model_alias: str


@dataclass(frozen=True)
class Failed:
    """The model failed; nothing was stored for the answer."""

    message: str


ChatEvent = Started | Token | Finished | Failed


def guarded_parts(
    session: ChatSession, sent: list[ChatMessage], *, answering_again: bool
) -> list[PromptPart]:
    """Return the system prompt and the prompts of the branch the model will be sent."""
    parts = []
    if session.system_prompt:
        parts.append(PromptPart("system", session.system_prompt, "the chat's system prompt"))
    prompts = [m for m in sent if m.role is Role.USER]
    for index, message in enumerate(prompts, start=1):
        last = answering_again and index == len(prompts)
        where = "the prompt to answer again" if last else "an earlier prompt of this chat"
        parts.append(PromptPart("user", message.content, where))
    return parts


class ChatFlow:
    """Runs prompts through guards and the model, storing both sides of the conversation."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        inference: InferenceGateway,
        guard: PromptGuard,
        max_reply_tokens: int,
    ) -> None:
        self._sessions = sessions
        self._inference = inference
        self.guard = guard
        self._max_reply_tokens = max_reply_tokens

    async def answer(
        self,
        *,
        user: User,
        session_id: str,
        prompt: str | None,
        cancel: asyncio.Event,
        on_queued: QueueListener | None = None,
        replaces: int | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """Answer a new prompt, or the last one again when `prompt` is None (regenerate).

        With `replaces`, the prompt is an edit of that earlier prompt and starts a new branch.
        The model sees the branch that is shown, never the versions beside it.
        Guard failures raise ServiceError before anything is stored. While the model is busy
        with other chats, `on_queued` hears how many are ahead of this one.
        """
        with unavailable_while_down():
            async with self._sessions() as db:
                session = await service.get_session(db, user=user, session_id=session_id)
                if session.ended_at is not None:
                    raise InvalidInput("this chat session has ended; start a new one")
                if prompt is None:
                    prompt_message, messages = await service.prompt_to_answer_again(
                        db, session=session
                    )
                    sent = messages
                else:
                    sent = await service.branch_before(db, session=session, replaces=replaces)
                prompt = await self.guard.admit(
                    db,
                    user_id=user.id,
                    prompt=prompt,
                    context=guarded_parts(session, sent, answering_again=prompt is None),
                )
                if prompt is not None:
                    prompt_message = await service.add_user_message(
                        db, session=session, content=prompt, replaces=replaces
                    )
                    messages = await service.history(db, session_id=session.id)

        answerer = self._inference.answerer(session.model_alias)
        conversation = Conversation(
            system_prompt=session.system_prompt,
            turns=service.conversation_turns(messages),
            temperature=session.temperature,
            max_tokens=self._max_reply_tokens,
            session_id=session.id,
            prompt_id=prompt_message.id,
        )
        yield Started(answerer.alias, answerer.is_fallback, prompt_message.id)

        stats = GenerationStats()
        pieces: list[str] = []
        failure: str | None = None
        stream = self._inference.generate(
            conversation,
            alias=session.model_alias,
            owner=str(user.id),
            cancel=cancel,
            stats=stats,
            on_queued=on_queued,
        )
        try:
            async for piece in stream:
                pieces.append(piece)
                yield Token(piece)
        except PromptTooLong as exc:
            failure = str(exc)
            if prompt is not None:  # a prompt no model can take is not kept in the history
                async with self._sessions() as db:
                    await service.delete_message(db, message_id=prompt_message.id)
        except InferenceError as exc:
            log.warning("generation failed in session %s: %s", session_id, exc)
            failure = str(exc) if exc.user_facing else GENERIC_FAILURE
        except Exception:
            # An answer cut short by an unexpected error is not stored as if it were complete.
            log.exception("generation broke in session %s", session_id)
            failure = GENERIC_FAILURE
        finally:
            # Runs also when the client went away (GeneratorExit): stop the model, keep the text.
            await stream.aclose()  # type: ignore[attr-defined]
            text = "".join(pieces)
            status = MessageStatus.STOPPED if cancel.is_set() else MessageStatus.COMPLETE
            stored = None
            if failure is None and text:
                try:
                    stored = await self._store_when_up(
                        session, prompt_message.id, text, status, answerer, stats
                    )
                except DatabaseUnavailable:
                    failure = NOT_SAVED
        if failure is not None:
            yield Failed(failure)
            return
        if stored is None:
            yield Failed("the model returned an empty answer; press regenerate to try again")
            return
        yield Finished(
            message_id=stored,
            status=status,
            token_count=stats.token_count,
            tokens_per_second=stats.tokens_per_second,
            time_to_first_token=stats.time_to_first_token,
            is_fallback=answerer.is_fallback,
            model_alias=answerer.alias,
        )

    async def _store_when_up(
        self,
        session: ChatSession,
        prompt_id: int,
        text: str,
        status: MessageStatus,
        answerer: Answerer,
        stats: GenerationStats,
    ) -> int:
        """Store the answer, waiting a bounded time for a database that is down to return."""
        return await retry_while_down(
            lambda: self._store(session, prompt_id, text, status, answerer, stats),
            seconds=STORE_RETRY_SECONDS,
            what=f"storing the answer of session {session.id}",
        )

    async def _store(
        self,
        session: ChatSession,
        prompt_id: int,
        text: str,
        status: MessageStatus,
        answerer: Answerer,
        stats: GenerationStats,
    ) -> int:
        alias, is_fallback = answerer.alias, answerer.is_fallback
        GENERATIONS.labels(engine="fallback" if is_fallback else "model", status=status.value).inc()
        GENERATED_TOKENS.inc(stats.token_count)
        if not is_fallback and stats.seconds > 0:
            TOKENS_PER_SECOND.observe(stats.tokens_per_second)
        async with self._sessions() as db:
            chat = await db.get(ChatSession, session.id)
            if chat is None:  # deleted while the answer streamed
                return 0
            message = await service.add_assistant_message(
                db,
                session=chat,
                content=text,
                status=status,
                model_alias=alias,
                is_fallback=is_fallback,
                token_count=stats.token_count,
                tokens_per_second=stats.tokens_per_second,
                prompt_id=prompt_id,
            )
            return message.id
