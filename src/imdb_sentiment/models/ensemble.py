"""Several networks read the same batch and vote: the ensemble's probability is the mean of theirs.

Each member is trained on its own loss (``member_logits``: the classifier sums the members' losses, and as
members share no parameter each gets exactly the gradient it would get alone), so the members stay the
models they are and only the vote is shared; one run, one checkpoint, and eval.py and predict.py read it like
any other. The checkpoint's best epoch is the one where the vote is best on validation.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from imdb_sentiment.errors import ConfigError


class Ensemble(nn.Module):
    requires_fixed_length = False  # a member that flattens fixed positions (mlp) is not a member here

    def __init__(self, members: Mapping[str, nn.Module]):
        super().__init__()
        if not isinstance(members, Mapping) or len(members) < 2:
            raise ConfigError("members", members, "must name at least two models (name: model config)")
        for name, member in members.items():
            if not isinstance(member, nn.Module):
                raise ConfigError(f"members.{name}", member, "must be a model config (a model group entry)")
            if getattr(member, "requires_fixed_length", False):
                raise ConfigError(f"members.{name}", type(member).__name__, "needs fixed-length batches: not a member")
        self.members = nn.ModuleDict(dict(members))

    def member_logits(self, ids: torch.Tensor) -> torch.Tensor:
        """``[members, batch]``: each member's own logit."""
        return torch.stack([member(ids) for member in self.members.values()])

    @staticmethod
    def vote(member_logits: torch.Tensor) -> torch.Tensor:
        """The logit of the members' mean probability."""
        mean = torch.sigmoid(member_logits).mean(0)
        return torch.logit(mean, eps=1e-7)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.vote(self.member_logits(ids))

    @torch.no_grad()
    def fit_prior(self, split) -> None:
        for member in self.members.values():
            fit_prior = getattr(member, "fit_prior", None)
            if fit_prior is not None:
                fit_prior(split)
