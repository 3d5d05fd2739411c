"""Prometheus metrics exposed at /metrics."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "meatlizard_http_requests_total", "HTTP requests served", ["method", "status"]
)
GENERATIONS = Counter(
    "meatlizard_chat_generations_total", "Chat answers generated", ["engine", "status"]
)
GENERATED_TOKENS = Counter("meatlizard_chat_tokens_total", "Tokens generated for chat answers")
TOKENS_PER_SECOND = Histogram(
    "meatlizard_chat_tokens_per_second",
    "Generation speed of model answers",
    buckets=(1, 5, 10, 20, 40, 60, 80, 100, 150, 200, 400),
)
REFUSALS = Counter("meatlizard_chat_refusals_total", "Prompts refused by a guard", ["reason"])

STARTED_AT = time.time()
UPTIME = Gauge("meatlizard_uptime_seconds", "Seconds since this process started")
UPTIME.set_function(lambda: time.time() - STARTED_AT)
INFERENCE_READY = Gauge(
    "meatlizard_inference_ready", "1 when a model or worker answers, 0 when the fallback does"
)
MODEL_LOADED = Gauge(
    "meatlizard_model_loaded",
    "1 while a model's weights are in this process's memory (MODEL_KEEP_ALIVE frees them)",
    ["model"],
)
WORKERS_ONLINE = Gauge("meatlizard_workers_online", "Client-bot workers seen online")
QUEUE_DEPTH = Gauge("meatlizard_inference_queue_depth", "Requests waiting for a model slot")
ACTIVE_SESSIONS = Gauge(
    "meatlizard_active_chat_sessions", "Chats not ended and used in the last 30 minutes"
)
REQUESTS_ENABLED = Gauge("meatlizard_requests_enabled", "1 when new AI requests are accepted")
WORKER_TOKENS_PER_SECOND = Gauge(
    "meatlizard_worker_tokens_per_second", "Latest stored speed of a client-bot", ["worker"]
)
WORKER_GPU = Gauge(
    "meatlizard_worker_gpu", "Latest stored GPU stats of a client-bot", ["worker", "stat"]
)
# Incremented by the links and files domains.
REDIRECTS = Counter("meatlizard_redirects_total", "Short-link redirects served")
UPLOADS = Counter("meatlizard_uploads_total", "Uploads completed", ["kind"])
UPLOADED_BYTES = Counter("meatlizard_uploaded_bytes_total", "Bytes of completed uploads")
