"""Architectures (nn.Module), Keras-compatible pieces, optimizers, generator state, the one LightningModule.

``SentimentClassifier`` is imported on first use: predicting with a checkpoint needs the architectures alone,
and importing Lightning costs seconds.
"""

from imdb_sentiment.models.architectures import FlattenMLP, NgramBag, RecurrentClassifier, count_parameters
from imdb_sentiment.models.ensemble import Ensemble
from imdb_sentiment.models.nb_ngrams import NaiveBayesNgrams

__all__ = [
    "Ensemble",
    "FlattenMLP",
    "NaiveBayesNgrams",
    "NgramBag",
    "RecurrentClassifier",
    "SentimentClassifier",
    "count_parameters",
]


def __getattr__(name: str):
    if name == "SentimentClassifier":
        from imdb_sentiment.models.classifier import SentimentClassifier

        return SentimentClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
