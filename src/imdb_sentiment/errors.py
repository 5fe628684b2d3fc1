"""Errors a user can fix: the entry points print them as one line and exit non-zero."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the config or the data, reported before any training starts."""


class ConfigError(UserError):
    """A config value out of range, of the wrong type, or in a bad combination."""

    def __init__(self, key: str, value, allowed: str):
        super().__init__(f"{key}={value!s}: {allowed}")
        self.key, self.value, self.allowed = key, value, allowed

    def within(self, section: str) -> ConfigError:
        """The same error keyed inside a config section: ``hidden_size`` -> ``model.hidden_size``."""
        return ConfigError(f"{section}.{self.key}", self.value, self.allowed)


class DataSourceError(UserError):
    """A data source that cannot be read or does not hold IMDB-shaped data."""
