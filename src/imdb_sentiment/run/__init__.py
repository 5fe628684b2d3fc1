"""One training run: the Trainer and its callbacks, checkpoints and resume, requeue, provenance, the run folder."""
