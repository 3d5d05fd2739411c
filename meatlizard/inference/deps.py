"""Typed dependency of the routes that ask the models: the gateway the composition root made."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from meatlizard.inference.service import InferenceGateway


async def get_inference(request: Request) -> InferenceGateway:
    """Return the inference gateway (the in-process models or the remote workers)."""
    inference: InferenceGateway = request.app.state.services.inference
    return inference


InferenceDep = Annotated[InferenceGateway, Depends(get_inference)]
