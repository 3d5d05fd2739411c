"""Prometheus metrics exposed at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
