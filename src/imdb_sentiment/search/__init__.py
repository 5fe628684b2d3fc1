"""Searches that spend runs well: an Optuna study kept in the sweep folder (resumable), and seed racing."""
