"""Sentiment of reviews with a trained checkpoint, no data set needed:

    python src/predict.py ckpt_path=PATH text="An excellent movie!" [text=...]
    python src/predict.py ckpt_path=PATH file=reviews.txt        (one review a line; file=- or a pipe: stdin)

Prints one line a review: P(positive), label, the review's start.
"""

import sys

from imdb_sentiment.cli import parse_assignments, run_task
from imdb_sentiment.errors import UserError
from imdb_sentiment.inference.prediction import label, predict_proba
from imdb_sentiment.inference.review_input import read_reviews, shorten
from imdb_sentiment.inference.trained_run import load_trained


def main(argv: list[str]) -> None:
    sys.stdout.reconfigure(errors="replace")  # a review's characters never crash a terminal that cannot show them
    args = parse_assignments(argv, __doc__.strip(), ("ckpt_path", "file"), repeatable=("text",))
    if not args.get("ckpt_path"):
        raise UserError('ckpt_path is required: python src/predict.py ckpt_path=PATH text="..."')
    reviews = read_reviews(args["text"], args.get("file"), sys.stdin)
    trained = load_trained(args["ckpt_path"])
    for text, p in zip(reviews, predict_proba(trained, reviews)):
        print(f"{p:.4f}\t{label(p)}\t{shorten(text)}")


if __name__ == "__main__":
    run_task(main, sys.argv[1:])
