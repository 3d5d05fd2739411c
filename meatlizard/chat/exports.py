"""A chat as a document: JSON (every version) and Markdown (the branch shown)."""

from __future__ import annotations

import json
from typing import Any

from meatlizard.chat.branches import Tree
from meatlizard.chat.models import ChatMessage, ChatSession, MessageStatus, Role


def _message(m: ChatMessage, messages: Tree) -> dict[str, Any]:
    versions = messages.versions(m)
    return {
        "id": m.id,
        "parent_id": m.parent_id,
        "role": m.role.value,
        "content": m.content,
        "created_at": m.created_at.isoformat(),
        "status": m.status.value,
        "model_alias": m.model_alias,
        "is_fallback": m.is_fallback,
        "version": versions.index(m.id) + 1,
        "versions": len(versions),
    }


def export_json(session: ChatSession, messages: Tree) -> str:
    """Return the session as JSON: the shown branch, then every other version and branch."""
    return json.dumps(
        {
            "id": session.id,
            "title": session.title,
            "system_prompt": session.system_prompt,
            "temperature": session.temperature,
            "model_alias": session.model_alias,
            "preset": session.preset,
            "created_at": session.created_at.isoformat(),
            "messages": [_message(m, messages) for m in messages.branch(session.current_leaf_id)],
            "other_versions": [
                _message(m, messages) for m in messages.hidden(session.current_leaf_id)
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def export_markdown(session: ChatSession, messages: Tree) -> str:
    """Return the shown branch as a readable Markdown document."""
    lines = [f"# {session.title}", ""]
    lines.append(f"- Model: `{session.model_alias}`, temperature {session.temperature}")
    lines.append(f"- Started: {session.created_at:%Y-%m-%d %H:%M} UTC")
    if session.system_prompt:
        lines += ["", "> **System prompt:** " + session.system_prompt.replace("\n", "\n> ")]
    for m in messages.branch(session.current_leaf_id):
        who = "You" if m.role is Role.USER else "Assistant"
        if m.is_fallback:
            who += " (fallback)"
        if m.status is MessageStatus.STOPPED:
            who += " (stopped)"
        versions = messages.versions(m)
        if len(versions) > 1:
            who += f" (version {versions.index(m.id) + 1} of {len(versions)})"
        lines += ["", f"## {who} — {m.created_at:%H:%M}", "", m.content]
    return "\n".join(lines) + "\n"
