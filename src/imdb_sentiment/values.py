"""Checks of single values, for the constructors that consume them.

Each raises ``ConfigError`` naming the constructor's argument (``hidden_size``); whoever built the object from
a config section adds the section (``model.hidden_size``, see ``config/build.py``). Each returns the value.
"""

from __future__ import annotations

from collections.abc import Iterable

from imdb_sentiment.errors import ConfigError


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def integer(name: str, value, minimum: int = 1, optional: bool = False):
    """An integer at least ``minimum`` (or None with ``optional``)."""
    if value is None and optional:
        return value
    if not is_int(value) or value < minimum:
        what = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
        raise ConfigError(name, value, f"must be {what}" + (" or null" if optional else ""))
    return value


def integers(name: str, values, minimum: int = 1) -> list[int]:
    """A list of integers, each at least ``minimum`` (layer widths)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ConfigError(name, values, f"must be a list of integers >= {minimum}")
    values = list(values)
    if not all(is_int(v) and v >= minimum for v in values):
        raise ConfigError(name, values, f"must be a list of integers >= {minimum}")
    return values


def boolean(name: str, value, optional: bool = False):
    if value is None and optional:
        return value
    if not isinstance(value, bool):
        raise ConfigError(name, value, "must be true or false" + (" or null" if optional else ""))
    return value


def text(name: str, value, must: str):
    """A non-empty string (a path, a Hub id); ``must`` says what it names."""
    if not isinstance(value, str) or not value:
        raise ConfigError(name, value, f"must be {must}")
    return value


def choice(name: str, value, allowed: Iterable):
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(name, value, f"must be one of {', '.join(map(str, allowed))}")
    return value


def probability(name: str, value):
    """A dropout rate: in [0, 1)."""
    if not is_number(value) or not 0 <= value < 1:
        raise ConfigError(name, value, "must be a probability in [0, 1)")
    return value


def fraction(name: str, value, also: str | None = None):
    """A share strictly between 0 and 1 (or the one word ``also``)."""
    if also is not None and value == also:
        return value
    if not is_number(value) or not 0 < value < 1:
        raise ConfigError(
            name, value, "must be a fraction strictly between 0 and 1" + (f', or "{also}"' if also else "")
        )
    return value


def positive_number(name: str, value):
    if not is_number(value) or not value > 0:
        raise ConfigError(name, value, "must be a positive number")
    return value


def non_negative_number(name: str, value):
    if not is_number(value) or not value >= 0:
        raise ConfigError(name, value, "must be a number >= 0")
    return value
