"""Typed dependency of the routes that ask the models: the gateway the composition root made."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from meatlizard.api.deps import from_state
from meatlizard.inference.service import InferenceGateway

# The in-process models or the remote workers.
InferenceDep = Annotated[InferenceGateway, Depends(from_state("inference"))]
