"""IMDB sentiment classification: the Keras notebooks' models, trained with Lightning and Hydra."""

from imdb_sentiment.config import sweep_naming  # noqa: F401  registers ${job_dirname:...} wherever a config is composed
