from .datamodule import IMDBDataModule
from .ragged import Ragged, pad_sequences

__all__ = ["IMDBDataModule", "Ragged", "pad_sequences"]
