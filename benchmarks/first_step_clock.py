"""A callback for startup.py: the wall-clock moments (time.time()) a train.py process passes on its way
to the first training step, written to ``path`` as JSON when that step starts.

    python src/train.py +callbacks.clock._target_=first_step_clock.FirstStepClock +callbacks.clock.path=t.json
    (with benchmarks/ on PYTHONPATH)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class FirstStepClock(Callback):
    def __init__(self, path: str):
        self.path = Path(path)
        self.moments = {"callback_built": time.time()}

    def setup(self, trainer, pl_module, stage: str) -> None:
        self.moments.setdefault("trainer_setup", time.time())

    def on_fit_start(self, trainer, pl_module) -> None:
        self.moments["fit_start"] = time.time()

    def on_sanity_check_start(self, trainer, pl_module) -> None:
        self.moments["sanity_start"] = time.time()

    def on_sanity_check_end(self, trainer, pl_module) -> None:
        self.moments["sanity_end"] = time.time()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if "first_step" not in self.moments:
            self.moments["first_step"] = time.time()
            self.path.write_text(json.dumps(self.moments))
            trainer.should_stop = True  # the clock has what it came for
