"""Long answers split into Discord-sized messages with code fences kept intact."""

from __future__ import annotations

import random

from meatlizard.bots.splitting import DISCORD_MESSAGE_CHARS, split_message


def _balanced(part: str) -> bool:
    return sum(1 for line in part.splitlines() if line.lstrip().startswith("```")) % 2 == 0


def test_short_text_is_one_message() -> None:
    assert split_message("hello") == ["hello"]
    assert split_message("") == [""]


def test_prose_splits_on_line_boundaries_and_loses_nothing() -> None:
    lines = [f"line {i} " + "word " * 30 for i in range(100)]
    text = "\n".join(lines)
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(p) <= DISCORD_MESSAGE_CHARS for p in parts)
    assert "".join(parts) == text
    assert all(p.endswith("\n") for p in parts[:-1])


def test_code_fence_is_closed_and_reopened_across_the_cut() -> None:
    code = "\n".join(f"    print({i})  # some comment to make it longer" for i in range(120))
    text = "Here is the code:\n```python\n" + code + "\n```\nDone."
    parts = split_message(text)
    assert len(parts) >= 3
    for part in parts:
        assert len(part) <= DISCORD_MESSAGE_CHARS
        assert _balanced(part), part[-80:]
    assert parts[1].startswith("```python\n")
    assert parts[0].endswith("\n```")
    assert parts[-1].endswith("```\nDone.")
    shown = [line for part in parts for line in part.splitlines() if not line.startswith("```")]
    assert shown == [line for line in text.splitlines() if not line.startswith("```")]


def test_a_line_longer_than_a_message_is_cut_at_a_space() -> None:
    text = "x" * 10 + " " + "word " * 900
    parts = split_message(text)
    assert all(len(p) <= DISCORD_MESSAGE_CHARS for p in parts)
    assert "".join(parts) == text
    assert parts[0].endswith(" ")


def test_a_long_unbroken_line_inside_a_fence_keeps_fences_balanced() -> None:
    text = "```\n" + "a" * 5000 + "\n```"
    parts = split_message(text)
    assert all(len(p) <= DISCORD_MESSAGE_CHARS for p in parts)
    assert all(_balanced(p) for p in parts)
    assert "".join(p.replace("```\n", "").replace("\n```", "") for p in parts).count("a") == 5000


def test_random_texts_never_exceed_the_limit_or_lose_characters() -> None:
    rng = random.Random(4)
    for _ in range(200):
        pieces = []
        for _ in range(rng.randint(1, 60)):
            kind = rng.random()
            if kind < 0.15:
                pieces.append("```" + rng.choice(["", "py", "bash"]))
            else:
                pieces.append(" ".join("w" * rng.randint(1, 12) for _ in range(rng.randint(0, 80))))
        text = "\n".join(pieces)
        parts = split_message(text, limit=300)
        assert all(len(p) <= 300 for p in parts)
        letters = sum(p.count("w") for p in parts)
        assert letters == text.count("w")


def test_an_opening_fence_alone_is_kept() -> None:
    assert split_message("```\n") == ["```\n"]
