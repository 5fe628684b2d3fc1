"""Errors a user can fix: the entry points print them as one line and exit non-zero."""


class UserError(Exception):
    """A mistake in the config or the data, reported before any training starts."""


class ConfigError(UserError):
    """A config value out of range, of the wrong type, or in a bad combination."""

    def __init__(self, key: str, value, allowed: str):
        super().__init__(f"{key}={value!s}: {allowed}")
        self.key, self.value, self.allowed = key, value, allowed


class DataSourceError(UserError):
    """A data source that cannot be read or does not hold IMDB-shaped data."""
