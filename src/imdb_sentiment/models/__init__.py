from .architectures import FlattenMLP, NgramBag, RecurrentClassifier, count_parameters
from .classifier import SentimentClassifier

__all__ = ["FlattenMLP", "NgramBag", "RecurrentClassifier", "SentimentClassifier", "count_parameters"]
