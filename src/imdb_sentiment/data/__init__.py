"""IMDB reviews to batches: sources -> tokenizer -> cache (untruncated ids) -> batches -> the DataModule."""

from imdb_sentiment.data.datamodule import IMDBDataModule
from imdb_sentiment.data.ragged import Ragged, pad_sequences

__all__ = ["IMDBDataModule", "Ragged", "pad_sequences"]
