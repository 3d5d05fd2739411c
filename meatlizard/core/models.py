"""Import every table so metadata (and Alembic) sees the whole schema."""

from meatlizard.admin.models import AppSetting, AuditEntry
from meatlizard.auth.models import AuthToken, User
from meatlizard.bots.models import DiscordSessionChannel
from meatlizard.chat.models import ChatMessage, ChatSession
from meatlizard.core.db import Base
from meatlizard.pastes.models import Paste
from meatlizard.transcripts.models import Transcript
from meatlizard.workers.models import WorkerMetric

__all__ = [
    "AppSetting",
    "AuditEntry",
    "AuthToken",
    "Base",
    "ChatMessage",
    "ChatSession",
    "DiscordSessionChannel",
    "Paste",
    "Transcript",
    "User",
    "WorkerMetric",
]
