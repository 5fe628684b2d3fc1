"""A trained run rebuilt from its checkpoint: evaluation, prediction, review input."""
