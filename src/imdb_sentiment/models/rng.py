"""The random generators' state, saved in every checkpoint, so a resumed epoch draws the numbers an
uninterrupted one would have drawn (dropout masks, Python and NumPy draws)."""

from __future__ import annotations

import random

import numpy as np
import torch


def rng_states() -> dict:
    """Every generator dropout or Python code may draw from, so a resumed epoch draws the same numbers."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = [kind, keys.tolist(), pos, has_gauss, cached]  # plain types: loadable with weights_only
    return {
        "torch": torch.get_rng_state(),
        "numpy": numpy_state,
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    random.setstate(states["python"])
    if (
        states.get("cuda") is not None
        and torch.cuda.is_available()
        and len(states["cuda"]) == torch.cuda.device_count()
    ):
        torch.cuda.set_rng_state_all(states["cuda"])
