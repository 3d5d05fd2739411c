"""Stored highlighting: drawn once at creation, checked against the text on every view."""

from __future__ import annotations

from anyio import to_thread
from markupsafe import Markup
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.pastes.highlight import render_lines
from meatlizard.pastes.models import Paste, pack_html


async def stored_lines(db: AsyncSession, paste: Paste, version: str) -> Markup | None:
    """Return the highlighted lines of `version` of a paste, drawing (and storing) them if stale."""
    if paste.encrypted:
        return None  # ciphertext: only the browser, after decrypting, highlights it
    if paste.rendered is not None and paste.rendered_version == version:
        return Markup(paste.rendered)
    html = await to_thread.run_sync(render_lines, paste.content, paste.language)
    if not paste.burn_after_read:  # a burned paste has no row left to store into
        # Only onto the text it was drawn from: a concurrent change keeps its own rendering.
        await db.execute(
            update(Paste)
            .where(Paste.id == paste.id, Paste.content == paste.content)
            .values(rendered_z=pack_html(str(html)), rendered_version=version)
            .execution_options(synchronize_session=False)
        )
        await db.commit()
    return html
