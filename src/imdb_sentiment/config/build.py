"""Build a configured object, with its constructor's checks reported under the config section they came from."""

from __future__ import annotations

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from imdb_sentiment.errors import ConfigError, UserError


def build(node: DictConfig, section: str, **kwargs):
    """``instantiate(node, **kwargs)``; a ``ConfigError`` from the constructor comes back as ``<section>.<key>``,
    a missing or unknown argument as one line naming the section."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as exc:
        cause = exc.__cause__
        if isinstance(cause, ConfigError):
            raise cause.within(_inner_section(exc, section)) from None
        if isinstance(cause, UserError):
            raise cause from None
        if isinstance(cause, TypeError) and "argument" in str(cause):  # a key the class lacks or needs
            raise ConfigError(section, node.get("_target_"), f"{cause}; see configs/{section}/") from None
        raise


def _inner_section(exc: InstantiationException, section: str) -> str:
    """The config node whose constructor failed: ``section`` itself, or a node inside it such as an ensemble's
    ``model.members.bag``, which Hydra names only in its message's last line (``full_key: ...``)."""
    last = str(exc).rsplit("\n", 1)[-1]
    key = last.removeprefix("full_key: ") if last.startswith("full_key: ") else ""
    return key if key.startswith(f"{section}.") else section
