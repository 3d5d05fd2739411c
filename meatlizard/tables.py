"""Import every table so metadata (and Alembic) sees the whole schema."""

from meatlizard.admin.models import AppSetting, AuditEntry, ContentReport
from meatlizard.auth.invites import Invite
from meatlizard.auth.models import AuthToken, User
from meatlizard.chat.discord_channels import DiscordSessionChannel
from meatlizard.chat.models import ChatMessage, ChatSession
from meatlizard.core.db import Base
from meatlizard.files.models import FileQuota, StoredFile
from meatlizard.links.models import Link, LinkStat
from meatlizard.notifications.models import Notification
from meatlizard.pastes.models import Paste
from meatlizard.relay.models import WorkerMetric
from meatlizard.transcripts.models import Transcript
from meatlizard.videos.models import Video, VideoCaption

__all__ = [
    "AppSetting",
    "AuditEntry",
    "AuthToken",
    "Base",
    "ChatMessage",
    "ChatSession",
    "ContentReport",
    "DiscordSessionChannel",
    "FileQuota",
    "Invite",
    "Link",
    "LinkStat",
    "Notification",
    "Paste",
    "StoredFile",
    "Transcript",
    "User",
    "Video",
    "VideoCaption",
    "WorkerMetric",
]
