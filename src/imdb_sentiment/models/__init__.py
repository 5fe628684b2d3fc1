"""Architectures (nn.Module), Keras-compatible pieces, optimizers, generator state, the one LightningModule."""

from imdb_sentiment.models.architectures import FlattenMLP, NgramBag, RecurrentClassifier, count_parameters
from imdb_sentiment.models.classifier import SentimentClassifier

__all__ = ["FlattenMLP", "NgramBag", "RecurrentClassifier", "SentimentClassifier", "count_parameters"]
