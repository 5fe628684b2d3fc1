"""Catch a misspelt key on the command line before Hydra does, and name the closest real keys.

Hydra answers ``data.batchsize=32`` with "Key 'batchsize' is not in struct". This check composes
the config the command selects (every combination of swept config groups, up to a limit) and, for
a key none of them has, raises one ``ConfigError`` with the nearest existing keys. Anything it
cannot judge (flags that change the config source, syntax errors) is left to Hydra. An unknown
option of a config group (``model=transformer``) is answered here too, in the same one-line form.
"""

from __future__ import annotations

import difflib
import itertools
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from omegaconf import DictConfig, ListConfig

from imdb_sentiment.errors import ConfigError

MAX_COMPOSITIONS = 16
_NO_VALUE_FLAGS = ("-m", "--multirun")


def check_override_keys(config_dir: str | Path, config_name: str, argv: list[str]) -> None:
    """Raise ``ConfigError`` for an override whose key exists in no config the command can compose."""
    if any(a.startswith("-") and a not in _NO_VALUE_FLAGS for a in argv):
        return  # --config-name, --cfg, -p ...: the config is not the one composed here
    try:
        overrides = OverridesParser.create().parse_overrides([a for a in argv if not a.startswith("-")])
    except Exception:  # Hydra reports syntax errors itself, with the position
        return
    if any(o.key_or_group == "hydra.searchpath" for o in overrides):
        return  # configs from other folders join in: Hydra checks against them itself
    config_dir = Path(config_dir)
    groups, keys = [], []
    for o in overrides:
        key = o.key_or_group
        if key.startswith("hydra") or "@" in key or o.type != OverrideType.CHANGE:
            continue  # Hydra's own settings, package moves, +additions and ~deletions
        if (config_dir / key).is_dir():
            choices = list(o.sweep_string_iterator()) if o.is_sweep_override() else [o.get_value_element_as_str()]
            files = {f.stem for f in (config_dir / key).glob("*.yaml")}
            options = sorted(f for f in files if not f.startswith("_"))  # _name: a base that presets build on
            for choice in choices:
                if choice != "null" and choice not in files:
                    close = difflib.get_close_matches(choice, options, n=1, cutoff=0.6)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    raise ConfigError(key, choice, f"no such {key} config{hint}; one of {', '.join(options)}")
            groups.append([f"{key}={c}" for c in choices])
        else:
            keys.append(o)
    combos = list(itertools.islice(itertools.product(*groups), MAX_COMPOSITIONS + 1))
    if not keys or len(combos) > MAX_COMPOSITIONS:
        return
    configs = []
    for combo in combos:
        try:
            configs.append(_compose(config_dir, config_name, list(combo)))
        except Exception:  # an unknown group option: Hydra lists the valid ones
            return
    for o in keys:
        if not any(_has(cfg, o.key_or_group) for cfg in configs):
            known = sorted(set().union(*(_dotted_keys(cfg) for cfg in configs)))
            close = difflib.get_close_matches(o.key_or_group, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ConfigError(
                o.key_or_group,
                o.input_line.partition("=")[2],
                f"no such key in the config; {hint}(+{o.key_or_group}=... adds a new key)",
            )


def _compose(config_dir: Path, config_name: str, overrides: list[str]) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir.resolve()), version_base="1.3"):
        return compose(config_name=config_name, overrides=overrides)


def _has(cfg, key: str) -> bool:
    node = cfg
    for part in key.split("."):
        if isinstance(node, DictConfig) and part in node.keys():  # keys(): no interpolation is resolved
            node = node._get_node(part)
        elif isinstance(node, ListConfig) and part.isdigit() and int(part) < len(node):
            node = node._get_node(int(part))
        else:
            return False
    return True


def _dotted_keys(cfg, prefix: str = "") -> set[str]:
    out = set()
    if isinstance(cfg, DictConfig) and not cfg._is_none():
        for k in cfg.keys():
            if prefix == "" and k == "hydra":
                continue
            path = f"{prefix}{k}"
            out.add(path)
            out |= _dotted_keys(cfg._get_node(k), f"{path}.")
    return out
