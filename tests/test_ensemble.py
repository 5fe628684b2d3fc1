"""Ensemble: the vote is the logit of the members' mean probability, and training gives each member exactly the
gradient it gets when trained alone on the same batch."""

import copy

import pytest
import torch
import torch.nn.functional as F

from imdb_sentiment.errors import ConfigError
from imdb_sentiment.models import Ensemble, FlattenMLP, NgramBag, SentimentClassifier


def bag(seed: int) -> NgramBag:
    torch.manual_seed(seed)
    return NgramBag(vocab_size=20, embed_dim=4, buckets=16, dense=[], dropout=0.0, keras_init=True, sparse=False)


def test_the_vote_is_the_logit_of_the_mean_probability():
    logits = torch.tensor([[2.0, -1.0], [0.0, -3.0]])  # two members, two reviews
    p = (torch.sigmoid(logits[0]) + torch.sigmoid(logits[1])) / 2
    torch.testing.assert_close(Ensemble.vote(logits), torch.log(p / (1 - p)))
    ens = Ensemble({"a": bag(1), "b": bag(2)})
    ids = torch.randint(0, 20, (3, 7))
    torch.testing.assert_close(ens(ids), Ensemble.vote(torch.stack([ens.members["a"](ids), ens.members["b"](ids)])))


def test_training_gives_each_member_the_gradient_it_gets_alone():
    members = {"a": bag(1), "b": bag(2)}
    alone = copy.deepcopy(members)
    module = SentimentClassifier(Ensemble(members), optimizer=None)
    module.log = lambda *a, **k: None  # no Trainer to log to
    ids, labels = torch.randint(0, 20, (5, 9)), torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
    module.training_step((ids, labels), 0).backward()
    for name, net in alone.items():
        F.binary_cross_entropy_with_logits(net(ids), labels).backward()
        for (p_name, p), q in zip(net.named_parameters(), members[name].parameters(), strict=True):
            torch.testing.assert_close(q.grad, p.grad, msg=f"{name}.{p_name}")


def test_refused_members():
    with pytest.raises(ConfigError, match="at least two"):
        Ensemble({"a": bag(1)})
    mlp = FlattenMLP(vocab_size=20, embed_dim=2, maxlen=5, hidden=[2], dropout=0.0, keras_init=False)
    with pytest.raises(ConfigError, match="members.m=FlattenMLP: needs fixed-length"):
        Ensemble({"a": bag(1), "m": mlp})
