"""The composition root: a process's long-lived resources and every domain's plug-ins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from meatlizard.admin import privacy as admin_privacy
from meatlizard.admin.moderation import AdminRules, ContentKind
from meatlizard.chat.access import TokenWatch
from meatlizard.chat.ending import EndRule, finish_session
from meatlizard.chat.flows import ChatFlow
from meatlizard.chat.guards import PromptGuard
from meatlizard.chat.models import ChatSession
from meatlizard.chat.orphans import Adopter, OrphanedAnswers
from meatlizard.chat.session_events import NoSessionEvents, SessionEvents, session_events_for
from meatlizard.core.cache import Cache, cache_from_settings
from meatlizard.core.db import make_engine, make_session_factory
from meatlizard.core.jobs import JobRunner
from meatlizard.core.memory import HeapTrimmer
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.core.settings import Rate, Settings
from meatlizard.core.storage import ObjectStorage, storage_from_settings
from meatlizard.core.sweeper import Sweeper
from meatlizard.files import privacy as file_privacy
from meatlizard.files import reports as file_reports
from meatlizard.files.jobs import FileSweeper
from meatlizard.files.policy import FilePolicy
from meatlizard.files.reconcile import OrphanReconciler
from meatlizard.gdpr.providers import PersonalData
from meatlizard.gdpr.providers import register as register_personal_data
from meatlizard.inference.loading import model_configs
from meatlizard.inference.registry_watch import RegistryWatch
from meatlizard.inference.service import InferenceGateway, LocalInference
from meatlizard.links import privacy as link_privacy
from meatlizard.links import reports as link_reports
from meatlizard.links.clicks import ClickRecorder
from meatlizard.links.geo import open_countries
from meatlizard.links.jobs import LinkSweeper
from meatlizard.links.redirects import LinkResolver
from meatlizard.pastes import privacy as paste_privacy
from meatlizard.pastes import reports as paste_reports
from meatlizard.pastes.hot import PasteCache
from meatlizard.pastes.jobs import PasteSweeper
from meatlizard.pastes.policy import PastePolicy
from meatlizard.pastes.pool import close_pools
from meatlizard.transcripts.delivery import TranscriptDelivery, WebNotifications
from meatlizard.videos import privacy as video_privacy
from meatlizard.videos import reports as video_reports
from meatlizard.videos.jobs import VideoJobs

# Each domain's share of a user's data, in the order exports list them.
PERSONAL_DATA: list[PersonalData] = [
    paste_privacy.PERSONAL_DATA,
    admin_privacy.PERSONAL_DATA,
    file_privacy.PERSONAL_DATA,
    link_privacy.PERSONAL_DATA,
    video_privacy.PERSONAL_DATA,
]


def content_kinds(
    sessions: async_sessionmaker[AsyncSession],
    storage: ObjectStorage,
    links: LinkResolver,
    pastes: PasteCache,
) -> dict[str, ContentKind]:
    """Return every reportable kind of content, each given what its takedown needs."""
    return {
        "paste": paste_reports.content_kind(pastes),
        "link": link_reports.content_kind(links),
        "file": file_reports.content_kind(sessions, storage),
        "video": video_reports.content_kind(sessions, storage),
    }


def remote_inference(
    settings: Settings, cache: Cache, sessions: async_sessionmaker[AsyncSession]
) -> InferenceGateway:
    """Build the gateway to client-bot workers (INFERENCE=remote)."""
    from meatlizard.relay.redis_gateway import RedisRelayGateway
    from meatlizard.relay.wire import PayloadSealer

    assert settings.redis_url is not None  # guaranteed by the settings' validation
    return RedisRelayGateway(
        settings.redis_url,
        PayloadSealer.from_settings(settings, cache),
        settings.default_model,
        sessions=sessions,
        metrics_interval_seconds=settings.metrics_interval_seconds,
    )


@dataclass
class Services:
    """Everything requests need, created at start-up and closed at shutdown."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cache: Cache
    storage: ObjectStorage
    inference: InferenceGateway
    chat: ChatFlow
    login_limiter: RateLimiter
    login_address_limiter: RateLimiter
    paste_limiter: RateLimiter
    jobs: JobRunner
    links: LinkResolver
    pastes: PasteCache
    videos: VideoJobs
    token_watch: TokenWatch  # ends chat sockets whose token or account is no longer good
    content_kinds: dict[str, ContentKind] = field(default_factory=dict)  # reports, takedowns
    # The in-process models follow the registry (models added while running are served).
    # Off when the caller passed its own gateway (tests share one loaded model).
    watch_models: bool = False
    sweepers: list[Sweeper] = field(default_factory=list)  # started by start()
    # Who is told about transcripts; the server-bot appends its Discord delivery.
    transcript_deliveries: list[TranscriptDelivery] = field(default_factory=list)
    # Ended and deleted sessions, told to the server-bot so their Discord channels follow.
    session_events: SessionEvents = field(default_factory=NoSessionEvents)

    @cached_property
    def file_policy(self) -> FilePolicy:
        """Return the operator's upload limits, made once."""
        return FilePolicy.from_settings(self.settings)

    @cached_property
    def paste_policy(self) -> PastePolicy:
        """Return the operator's paste settings, made once."""
        return PastePolicy.from_settings(self.settings)

    @classmethod
    def build(cls, settings: Settings, *, inference: InferenceGateway | None = None) -> Services:
        """Wire the resources for these settings (nothing is connected yet).

        Tests pass an already-loaded `inference` so the model loads once per run.
        """
        for provider in PERSONAL_DATA:
            register_personal_data(provider)
        engine = make_engine(settings.effective_database_url)
        sessions = make_session_factory(engine)
        cache = cache_from_settings(settings)
        models = (
            list(model_configs(settings, settings.model_paths).values())
            if settings.inference == "local"
            else []
        )
        built_here = inference is None
        if inference is None:
            inference = (
                remote_inference(settings, cache, sessions)
                if settings.inference == "remote"
                else LocalInference(models, settings.default_model)
            )
        guard = PromptGuard(
            max_chars=settings.max_prompt_chars,
            words=settings.moderation_words,
            patterns=settings.moderation_patterns,
            message=settings.moderation_message,
            limiter=RateLimiter(cache, "chat", settings.chat_rate, fail_open=True),
            rules=AdminRules(),
        )
        storage = storage_from_settings(settings)
        links = LinkResolver(
            cache,
            sessions,
            ClickRecorder(
                sessions,
                settings.link_click_flush_seconds,
                open_countries(settings.geoip_database),
            ),
            settings.link_cache_seconds,
        )
        pastes = PasteCache(
            cache, settings.paste_cache_seconds, memo_bytes=settings.cache_memory_max_bytes
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            cache=cache,
            storage=storage,
            inference=inference,
            chat=ChatFlow(
                sessions=sessions,
                inference=inference,
                guard=guard,
                max_reply_tokens=settings.model_max_tokens,
            ),
            login_limiter=RateLimiter(cache, "login", settings.login_rate),
            login_address_limiter=RateLimiter(
                cache, "login-address", Rate.parse(settings.login_address_rate_limit)
            ),
            paste_limiter=RateLimiter(cache, "paste", settings.paste_rate, fail_open=True),
            jobs=JobRunner(),
            videos=VideoJobs(sessions, storage, settings),
            token_watch=TokenWatch(sessions),
            links=links,
            pastes=pastes,
            content_kinds=content_kinds(sessions, storage, links, pastes),
            transcript_deliveries=[WebNotifications(sessions)],
            session_events=session_events_for(settings.redis_url),
            watch_models=built_here and isinstance(inference, LocalInference),
        )

    def archive_transcript(self, session_id: str) -> None:
        """Write a session's transcript in the background and tell its user."""
        from meatlizard.transcripts.service import archive_session

        self.jobs.spawn(
            archive_session(
                self.sessions, self.storage, session_id, deliveries=self.transcript_deliveries
            ),
            name=f"transcript-{session_id}",
        )

    async def end_session(self, db: AsyncSession, end: EndRule) -> ChatSession:
        """End a session from the web (its owner or an admin): the transcript is written in
        the background and the server-bot is told, so the Discord channel follows."""

        async def in_background(session_id: str) -> None:
            self.archive_transcript(session_id)

        return await finish_session(
            db, end, write_transcript=in_background, events=self.session_events
        )

    async def prepare(self) -> None:
        """Check that storage is usable (creating the bucket or folder if needed)."""
        await self.storage.prepare()

    def start(self) -> None:
        """Begin background work: loading models, listening for workers."""
        self.inference.start()
        self.links.clicks.start()
        self.sweepers = [
            PasteSweeper(self.sessions),
            LinkSweeper(self.sessions, self.links),
            FileSweeper(self.sessions, self.storage),
            OrphanReconciler(
                self.sessions,
                self.storage,
                timedelta(seconds=self.settings.files_orphan_grace_seconds),
            ),
            HeapTrimmer(),
        ]
        if isinstance(self.inference, Adopter):  # the Redis relay: answers outlive a process
            self.sweepers.append(OrphanedAnswers(self.sessions, self.inference))
        if self.watch_models and isinstance(self.inference, LocalInference):
            self.sweepers.append(RegistryWatch(self.settings, self.inference))
        for sweeper in self.sweepers:
            sweeper.start()
        if self.settings.video_transcode_in_web:
            self.videos.start()

    async def close(self) -> None:
        """Release every resource."""
        for sweeper in self.sweepers:
            await sweeper.stop()
        await self.token_watch.close()
        await self.links.clicks.close()  # before the cache and database go away
        await self.videos.stop()
        await self.jobs.drain()
        close_pools()  # after the jobs: no paste is being created any more
        await self.inference.close()
        await self.session_events.close()
        await self.cache.close()
        await self.storage.close()
        await self.engine.dispose()
