"""IMDB reviews to batches: sources -> tokenizer -> cache (untruncated ids) -> batches -> the DataModule.

``IMDBDataModule`` is imported on first use: encoding text for prediction needs no Lightning.
"""

from imdb_sentiment.data.ragged import Ragged, pad_sequences

__all__ = ["IMDBDataModule", "Ragged", "pad_sequences"]


def __getattr__(name: str):
    if name == "IMDBDataModule":
        from imdb_sentiment.data.datamodule import IMDBDataModule

        return IMDBDataModule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
