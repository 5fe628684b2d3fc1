"""Accuracy of a trained checkpoint:  python src/eval.py ckpt_path=PATH [split=test|val] [data.source=...]

The model and the data handling come from the checkpoint's own run config; data.* (and
trainer.accelerator, trainer.precision) override it, e.g. data.source where the data lives elsewhere.
"""

import logging
import sys

from imdb_sentiment.cli import parse_assignments, run_task
from imdb_sentiment.errors import UserError
from imdb_sentiment.inference.evaluation import TRAINER_KEYS, evaluate, result_line


def main(argv: list[str]) -> None:
    args = parse_assignments(argv, __doc__.strip(), ("ckpt_path", "split", *TRAINER_KEYS), prefixes=("data.",))
    if not args.get("ckpt_path"):
        raise UserError("ckpt_path is required: python src/eval.py ckpt_path=PATH [split=test|val]")
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no device banner around the one result line
    ckpt, split = args.pop("ckpt_path"), args.pop("split", "test")
    print(result_line(evaluate(ckpt, split, args)))


if __name__ == "__main__":
    run_task(main, sys.argv[1:])
