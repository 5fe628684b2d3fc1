"""Reviews to predict, from ``text=`` arguments, a file (one review a line) or standard input."""

from __future__ import annotations

import re
from pathlib import Path

from imdb_sentiment.errors import UserError


def read_reviews(texts: list[str], file: str | None, stdin) -> list[str]:
    """The reviews, in order. Blank lines of a file are not reviews; an empty ``text=`` is an error."""
    if texts and file is not None:
        raise UserError("give text=... or file=..., not both")
    if texts:
        for i, t in enumerate(texts, 1):
            if not t.strip():
                raise UserError(f"text=: review {i} is empty")
        return texts
    if file is None and stdin.isatty():
        raise UserError('no review: give text="...", file=PATH (one review a line), or pipe reviews into stdin')
    if file is None or file == "-":
        where, data = "stdin", stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
    else:
        where = f"file={file}"
        try:
            data = Path(file).expanduser().read_bytes()
        except FileNotFoundError:
            raise UserError(f"{where}: no such file") from None
        except OSError as exc:
            raise UserError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    reviews = [line.strip() for line in text.splitlines() if line.strip()]
    if not reviews:
        hint = (
            ', and no text= or file= given: give text="...", file=PATH (one review a line), or pipe reviews in'
            if where == "stdin"
            else ""
        )
        raise UserError(f"{where}: no reviews in it (one a line){hint}")
    return reviews


def shorten(text: str, width: int = 70) -> str:
    """The review on one line, cut to ``width`` characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= width else flat[: width - 1] + "…"
