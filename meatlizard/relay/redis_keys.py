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
