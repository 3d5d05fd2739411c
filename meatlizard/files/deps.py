"""Typed dependency of the file routes and pages: the operator's upload limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from meatlizard.api.deps import from_state
from meatlizard.files.policy import FilePolicy

FilePolicyDep = Annotated[FilePolicy, Depends(from_state("file_policy"))]
