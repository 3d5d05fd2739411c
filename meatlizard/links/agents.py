"""Tell browsers, operating systems and bots apart from a User-Agent, simply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

VALUE_MAX_LENGTH = 200
MEMO_SIZE = 1024  # distinct User-Agents and referrers remembered; a click repeats one mostly
# Only this much of a header is looked at (and remembered): the markers come early.
MEMO_KEY_CHARS = 512
DIRECT = "(direct)"
# Named crawlers and link-preview fetchers first, then generic markers and HTTP libraries.
KNOWN_BOTS = [
    ("Discordbot", "Discord"),
    ("Slackbot", "Slack"),
    ("Twitterbot", "Twitter"),
    ("facebookexternalhit", "Facebook"),
    ("TelegramBot", "Telegram"),
    ("WhatsApp", "WhatsApp"),
    ("Googlebot", "Google"),
    ("bingbot", "Bing"),
    ("DuckDuckBot", "DuckDuckGo"),
    ("YandexBot", "Yandex"),
    ("Applebot", "Apple"),
    ("HeadlessChrome", "Headless Chrome"),
    ("curl/", "curl"),
    ("Wget/", "Wget"),
    ("python-httpx", "python-httpx"),
    ("python-requests", "python-requests"),
    ("aiohttp", "aiohttp"),
    ("Go-http-client", "Go"),
    ("wrk", "wrk"),
]
GENERIC_BOT = re.compile(r"bot\b|crawl|spider|slurp|preview|fetch|monitor|scan|http-client", re.I)
BROWSERS = [  # order matters: Edge and Opera also say Chrome; Chrome also says Safari
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("Safari/", "Safari"),
]
SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


@dataclass(frozen=True)
class Visitor:
    """Who clicked: a bot's name, or a person's browser and OS."""

    bot: str | None
    browser: str
    os: str


def classify(user_agent: str) -> Visitor:
    """Classify a User-Agent header (an empty one counts as a bot)."""
    return _classify(user_agent[:MEMO_KEY_CHARS])


@lru_cache(maxsize=MEMO_SIZE)
def _classify(user_agent: str) -> Visitor:
    if not user_agent.strip():
        return Visitor("(no user agent)", "", "")
    lowered = user_agent.lower()
    for marker, name in KNOWN_BOTS:
        if marker.lower() in lowered:
            return Visitor(name, "", "")
    if GENERIC_BOT.search(user_agent):
        return Visitor("other bot", "", "")
    browser = next((name for marker, name in BROWSERS if marker in user_agent), "Other")
    system = next((name for marker, name in SYSTEMS if marker in user_agent), "Other")
    return Visitor(None, browser, system)


def referrer_host(referer: str | None) -> str:
    """Return the referring site's host name, or "(direct)"."""
    return _referrer_host(referer[:MEMO_KEY_CHARS] if referer else None)


@lru_cache(maxsize=MEMO_SIZE)
def _referrer_host(referer: str | None) -> str:
    if not referer:
        return DIRECT
    try:
        host = urlsplit(referer).hostname
    except ValueError:
        return DIRECT
    return (host or DIRECT)[:VALUE_MAX_LENGTH]
