"""The operator's link settings, plus the names and hosts the site itself uses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from meatlizard.core.settings import Settings
from meatlizard.links.safety import TargetRules


@dataclass(frozen=True)
class LinkPolicy:
    """The operator's link settings, plus names the site itself uses."""

    rules: TargetRules
    allow_anonymous: bool = True
    reserved: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, own_hosts: Iterable[str], reserved: frozenset[str]
    ) -> LinkPolicy:
        """Return the policy LINK_* set; `own_hosts` and LINK_PUBLIC_BASE_URL are never targets."""
        own = set(own_hosts)
        if settings.link_public_base_url:
            own.add(urlsplit(settings.link_public_base_url).hostname or "")
        return cls(
            rules=TargetRules(
                max_url_length=settings.link_max_url_length,
                blocked_domains=tuple(settings.link_blocked_domains),
                own_hosts=frozenset(h.lower() for h in own if h),
            ),
            allow_anonymous=settings.link_allow_anonymous,
            reserved=reserved,
        )
