"""Redis names shared by the web side and the workers (documented in docs/protocol.md)."""

from __future__ import annotations

REQUESTS_STREAM = "ml:inference:requests"
WORKER_GROUP = "workers"
CANCEL_CHANNEL = "ml:inference:cancel"
WORKER_PREFIX = "ml:inference:worker:"

# A worker refreshes its presence this often; it counts as gone after WORKER_TTL_SECONDS.
HEARTBEAT_SECONDS = 2.0
WORKER_TTL_SECONDS = 6.0
# A request left unacknowledged this long by a worker that vanished is taken over by another.
CLAIM_IDLE_SECONDS = 10.0
# How long the web side waits for a take-over once the worker answering it vanished: time
# for the entry to turn idle, plus time for a restarted worker to advertise itself again.
TAKEOVER_GRACE_SECONDS = CLAIM_IDLE_SECONDS + 2 * WORKER_TTL_SECONDS
# Reply streams and "abandoned" marks outlive any request by far, then clean themselves up.
REPLY_TTL_SECONDS = 600
REQUESTS_MAXLEN = 10_000


def reply_stream(request_id: str) -> str:
    """Return the stream a worker writes one request's answer to."""
    return f"ml:inference:reply:{request_id}"


def abandoned_key(request_id: str) -> str:
    """Return the mark a web process leaves when it gave up on a request."""
    return f"ml:inference:abandoned:{request_id}"


def worker_key(worker_id: str) -> str:
    """Return the presence key of one worker."""
    return WORKER_PREFIX + worker_id


# A web process marks itself alive (refreshed every HEARTBEAT_SECONDS, gone after
# WORKER_TTL_SECONDS) and records each chat request it follows; when it dies, another web
# process adopts the request, reads its answer to the end and stores it.
WEB_PREFIX = "ml:web:alive:"
IN_FLIGHT_PREFIX = "ml:inference:inflight:"


def web_key(process_id: str) -> str:
    """Return the presence key of one web process."""
    return WEB_PREFIX + process_id


def in_flight_key(request_id: str) -> str:
    """Return the record of a chat request a web process is following."""
    return IN_FLIGHT_PREFIX + request_id


def adopted_key(request_id: str) -> str:
    """Return the mark of the web process that adopted an orphaned request."""
    return f"ml:inference:adopted:{request_id}"
