from .architectures import FlattenMLP, RecurrentClassifier, count_parameters
from .classifier import SentimentClassifier

__all__ = ["FlattenMLP", "RecurrentClassifier", "SentimentClassifier", "count_parameters"]
