"""IMDB sentiment classification: the Keras notebooks' models, trained with Lightning and Hydra."""
