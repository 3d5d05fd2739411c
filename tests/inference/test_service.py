"""Model loading: a file that is not a usable GGUF falls back to the labelled Markov chain."""

from __future__ import annotations

from pathlib import Path

from meatlizard.inference.loading import ModelConfig
from meatlizard.inference.service import EngineState, LocalInference


async def test_unloadable_model_falls_back_with_the_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"this is not a gguf file")
    service = LocalInference(
        [ModelConfig("broken", broken, n_ctx=512, n_threads=1, n_gpu_layers=0)], "broken"
    )
    service.start_loading()
    await service.wait_loaded()
    status = service.status()
    assert service.state is EngineState.FALLBACK
    assert "cannot load model 'broken'" in str(status["models"]["broken"])  # type: ignore[index]
    assert service.engine_for("broken").is_fallback
    await service.close()


async def test_no_models_configured_means_fallback() -> None:
    service = LocalInference([], "smollm2")
    service.start_loading()
    await service.wait_loaded()
    assert service.state is EngineState.FALLBACK
    assert service.aliases == ["smollm2"]
    assert service.engine_for(None).is_fallback
