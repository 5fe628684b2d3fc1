"""Build a configured object, with its constructor's checks reported under the config section they came from."""

from __future__ import annotations

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from imdb_sentiment.errors import ConfigError, UserError


def build(node: DictConfig, section: str, **kwargs):
    """``instantiate(node, **kwargs)``; a ``ConfigError`` from the constructor comes back as ``<section>.<key>``,
    a missing or unknown argument as one line naming the node (an ensemble member's own) and its class."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as exc:
        cause, where = exc.__cause__, _inner_section(exc, section)
        if isinstance(cause, ConfigError):
            raise cause.within(where) from None
        if isinstance(cause, UserError):
            raise cause from None
        if isinstance(cause, TypeError) and "argument" in str(cause):  # a key the class lacks or needs
            inner = where.removeprefix(section).lstrip(".")  # "" or an inner node such as "members.bag"
            target = OmegaConf.select(node, f"{inner}._target_" if inner else "_target_")
            raise ConfigError(where, target, f"{cause}; see configs/{section.split('.')[0]}/") from None
        raise


def _inner_section(exc: InstantiationException, section: str) -> str:
    """The config node whose constructor failed: ``section`` itself, or a node inside it such as an ensemble's
    ``model.members.bag``, which Hydra names only in its message's last line (``full_key: ...``)."""
    last = str(exc).rsplit("\n", 1)[-1]
    key = last.removeprefix("full_key: ") if last.startswith("full_key: ") else ""
    return key if key.startswith(f"{section}.") else section
