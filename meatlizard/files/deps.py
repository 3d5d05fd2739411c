"""Typed dependency of the file routes and pages: the operator's upload limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from meatlizard.files.policy import FilePolicy


async def get_file_policy(request: Request) -> FilePolicy:
    """Return the operator's upload limits, made once by the composition root."""
    policy: FilePolicy = request.app.state.services.file_policy
    return policy


FilePolicyDep = Annotated[FilePolicy, Depends(get_file_policy)]
