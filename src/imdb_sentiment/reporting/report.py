"""Compare runs: one row a run, groups of runs that differ only by seed, and which differences are noise.

    python src/report.py logs/multiruns/<date>/<time> [more folders] [--sort COLUMN [--desc]] [--out DIR]

Prints the tables and writes ``report.md``, ``runs.csv``, ``groups.csv`` and the plots of
``plots.py`` into ``--out`` (default: the first folder); for an Optuna search's folder also ``search.md``
(trials by objective, the best trial's command) and Optuna's history and importance plots. Runs without
a summary (still going, or failed) are listed as incomplete and left out of the statistics.
"""

from __future__ import annotations

import argparse
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from imdb_sentiment.errors import UserError
from imdb_sentiment.files import write_bytes_atomic, write_text_atomic
from imdb_sentiment.reporting import plots, search_report
from imdb_sentiment.reporting.runs import Run, find_runs
from imdb_sentiment.stats import METHOD, estimate, holm, verdict, welch_p

RUN_COLUMNS = [
    "run",
    "model",
    "experiment",
    "seed",
    "batch_size",
    "max_epochs",
    "epochs_run",
    "stopped_early_at_epoch",
    "best_val_acc",
    "best_epoch",
    "test_acc",
    "params",
    "fit_seconds",
    "accelerator",
    "status",
    "path",
]
METRICS = {"test_acc": "test accuracy", "best_val_acc": "best validation accuracy"}
GROUP_COLUMNS = ["group", "n", "incomplete"] + [
    f"{m}{s}" for m in METRICS for s in ("", "_std", "_ci_low", "_ci_high", "_p_vs_best", "_p_holm", "_vs_best")
]
# Override keys that do not change what a run computes: where files go, where the same data is read from.
NOT_SETTINGS = ("paths.", "data.source", "data.cache_dir", "callbacks.progress_bar.", "ckpt_path", "hydra.")


@dataclass
class Group:
    label: str
    runs: list[Run]

    def values(self, metric: str) -> list[float]:
        return [r.get(metric) for r in self.runs if r.complete and r.get(metric) is not None]


# --- what tells runs apart --------------------------------------------------------------------


def _override_key(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0]


def settings(run: Run) -> dict[str, str]:
    """``{key: "key=value"}``: the run's overrides that change what it computes, seed included."""
    out = {}
    for o in run.overrides:
        key = _override_key(o)
        if not key.startswith(NOT_SETTINGS):
            out[key] = o
    model = run.get("model_config") or run.choices.get("model") or run.get("model")
    if model:
        out.setdefault("model", f"model={model}")
    experiment = run.get("experiment") or run.choices.get("experiment")
    if experiment:
        out.setdefault("experiment", f"experiment={experiment}")
    return out


def _labels(runs: list[Run]) -> tuple[list[str], list[str], list[str]]:
    """Per run: its label (what differs from the other runs) and its group label (the same, seed left out);
    and the settings all runs share."""
    all_settings = [settings(r) for r in runs]
    common = set.intersection(*(set(s.values()) for s in all_settings)) if runs else set()
    run_labels, group_labels = [], []
    for run, s in zip(runs, all_settings):
        own = [v for k, v in sorted(s.items()) if v not in common]
        run_labels.append(",".join(own) or run.path.name)
        group_labels.append(",".join(v for v in own if _override_key(v) != "seed") or "(defaults)")
    return run_labels, group_labels, sorted(common)


def group_runs(runs: list[Run], group_labels: list[str]) -> list[Group]:
    groups: dict[str, Group] = {}
    for run, label in zip(runs, group_labels):
        groups.setdefault(label, Group(label, [])).runs.append(run)
    if len(groups) == 1:
        next(iter(groups.values())).label = "all runs"
    return list(groups.values())


# --- rows -------------------------------------------------------------------------------------


def run_row(run: Run, label: str) -> dict:
    row = {c: run.get(c) for c in RUN_COLUMNS}
    row.update(
        run=label,
        model=run.get("model_config") or run.get("model"),
        path=str(run.path),
        status="ok"
        if run.complete
        else f"incomplete: {run.problem}" + (f"; {len(run.history)} epochs logged" if run.history else ""),
    )
    return row


def group_rows(groups: list[Group]) -> list[dict]:
    rows = [
        {"group": g.label, "n": sum(r.complete for r in g.runs), "incomplete": sum(not r.complete for r in g.runs)}
        for g in groups
    ]
    for metric in METRICS:
        values = [g.values(metric) for g in groups]
        est = [estimate(v) for v in values]
        # The reference is the best group that can be tested: a single lucky run must not be it.
        ranked = [i for i, e in enumerate(est) if e.n >= 2] or [i for i, e in enumerate(est) if e.n == 1]
        best = max(ranked, key=lambda i: est[i].mean, default=None)
        raw = [None if best is None or i == best else welch_p(values[i], values[best]) for i in range(len(rows))]
        for i, (row, e, p, adjusted) in enumerate(zip(rows, est, raw, holm(raw))):
            row.update(
                {
                    metric: e.mean,
                    f"{metric}_std": e.std,
                    f"{metric}_ci_low": e.ci_low,
                    f"{metric}_ci_high": e.ci_high,
                    f"{metric}_p_vs_best": p,
                    f"{metric}_p_holm": adjusted,
                    f"{metric}_vs_best": "" if e.mean is None else verdict(adjusted, i == best),
                }
            )
    return rows


def sort_rows(rows: list[dict], column: str | None, descending: bool) -> list[dict]:
    if column is None:
        return rows
    present = [r for r in rows if r.get(column) is not None]
    missing = [r for r in rows if r.get(column) is None]  # last, whichever the direction
    numeric = all(isinstance(r[column], (int, float)) for r in present)
    return sorted(present, key=lambda r: r[column] if numeric else str(r[column]), reverse=descending) + missing


def conclusions(groups: list[Group], rows: list[dict]) -> list[str]:
    """Plain sentences: per metric, the best group and which others are within noise of it."""
    lines = []
    for metric, name in METRICS.items():
        scored = [r for r in rows if r[metric] is not None]
        if not scored:
            continue
        best = next(r for r in scored if r[f"{metric}_vs_best"] == "best")
        lines.append(f"{name.capitalize()}: best is {best['group']} ({_mean_std(best, metric)}, n={best['n']}).")
        if len(groups) == 1:
            continue
        for kind, test in (
            ("Within noise of it", lambda v: v.startswith("within")),
            ("Worse", lambda v: v.startswith("worse")),
            ("Cannot tell (n < 2)", lambda v: v.startswith("cannot")),
        ):
            hits = [
                f"{r['group']}"
                + (f" (Holm p={r[f'{metric}_p_holm']:.3g})" if r[f"{metric}_p_holm"] is not None else "")
                for r in scored
                if r is not best and test(r[f"{metric}_vs_best"])
            ]
            if hits:
                lines.append(f"  {kind}: " + "; ".join(hits) + ".")
    return lines


def provenance_warnings(groups: list[Group]) -> list[str]:
    """A group whose runs came from different commits, or from a tree with uncommitted changes, is flagged:
    its spread may be the code's, not the seeds'."""
    lines = []
    for g in groups:
        origins = [r.get("provenance") for r in g.runs if r.complete and r.get("provenance")]
        commits = sorted({(o.get("commit") or "?")[:10] for o in origins})
        dirty = sorted({o.get("diff_sha256") or "?" for o in origins if o.get("dirty")})
        if len(commits) > 1:
            lines.append(f"Warning: {g.label} mixes runs of {len(commits)} commits ({', '.join(commits)}).")
        if dirty:
            lines.append(f"Warning: {g.label} has runs of a tree with uncommitted changes (diff {', '.join(dirty)}).")
    return lines


# --- formatting -------------------------------------------------------------------------------


def _fmt(value, column: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}" if column == "fit_seconds" else f"{value:.4f}"
    if isinstance(value, int) and not isinstance(value, bool) and column == "params":
        return f"{value:,}"
    return str(value)


def _mean_std(row: dict, metric: str) -> str:
    if row[metric] is None:
        return ""
    return _fmt(row[metric]) + ("" if row[f"{metric}_std"] is None else f" ± {_fmt(row[f'{metric}_std'])}")


def _ci(row: dict, metric: str) -> str:
    return (
        ""
        if row[f"{metric}_ci_low"] is None
        else f"[{_fmt(row[f'{metric}_ci_low'])}, {_fmt(row[f'{metric}_ci_high'])}]"
    )


def display_group_rows(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    header = [
        "group",
        "n",
        "incomplete",
        "test acc (mean ± std)",
        "95% CI",
        "vs best",
        "best val acc (mean ± std)",
        "95% CI",
        "vs best",
    ]
    body = [
        [
            r["group"],
            str(r["n"]),
            str(r["incomplete"]),
            _mean_std(r, "test_acc"),
            _ci(r, "test_acc"),
            r["test_acc_vs_best"],
            _mean_std(r, "best_val_acc"),
            _ci(r, "best_val_acc"),
            r["best_val_acc_vs_best"],
        ]
        for r in rows
    ]
    return header, body


def text_table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(c) for c in col) for col in zip(header, *body)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body)])


def markdown_table(header: list[str], body: list[list[str]]) -> str:

    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    return "\n".join(
        [
            "| " + " | ".join(map(esc, header)) + " |",
            "|" + "---|" * len(header),
            *("| " + " | ".join(map(esc, row)) + " |" for row in body),
        ]
    )


def csv_text(columns: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if r.get(k) is None else r[k] for k in columns} for r in rows)
    return buf.getvalue()


# --- the report -------------------------------------------------------------------------------


@dataclass
class Report:
    runs: list[Run]
    run_rows: list[dict]
    groups: list[Group]
    group_rows: list[dict]
    common: list[str]


def build(folders: list[str | Path], sort: str | None = None, descending: bool = False) -> Report:
    runs = find_runs(folders)
    run_labels, group_labels, common = _labels(runs)
    groups = group_runs(runs, group_labels)
    if sort is not None and sort not in RUN_COLUMNS and sort not in GROUP_COLUMNS:
        raise UserError(f"--sort {sort}: not a column; one of {', '.join(dict.fromkeys(RUN_COLUMNS + GROUP_COLUMNS))}")
    label_of = {id(r): label for r, label in zip(runs, run_labels)}
    order = [r for g in groups for r in sorted(g.runs, key=lambda r: (r.get("seed") is None, r.get("seed") or 0))]
    rows = sort_rows([run_row(r, label_of[id(r)]) for r in order], sort if sort in RUN_COLUMNS else None, descending)
    grows = group_rows(groups)
    by_test = sort_rows(sort_rows(grows, "best_val_acc", True), "test_acc", True)  # best first, then by validation
    grows = sort_rows(by_test, sort, descending) if sort in GROUP_COLUMNS else by_test
    groups = [next(g for g in groups if g.label == r["group"]) for r in grows]
    return Report(runs, rows, groups, grows, common)


def _shown(rows: list[dict], columns: list[str]) -> list[str]:
    """The columns that hold a value in some row (the CSV keeps them all)."""
    return [c for c in columns if any(r.get(c) is not None for r in rows)]


def _count(rep: Report) -> str:
    n = len(rep.runs)
    return f"{n} run{'s' if n != 1 else ''} ({sum(r.complete for r in rep.runs)} complete)"


def render_text(rep: Report) -> str:
    shown = _shown(rep.run_rows, [c for c in RUN_COLUMNS if c != "path"])
    runs = text_table(shown, [[_fmt(r[c], c) for c in shown] for r in rep.run_rows])
    parts = [
        _count(rep) + (f"; all share: {','.join(rep.common)}" if rep.common else ""),
        "",
        runs,
        "",
        "Groups (runs that differ only by seed):",
        "",
        text_table(*display_group_rows(rep.group_rows)),
        "",
    ]
    parts += conclusions(rep.groups, rep.group_rows) + ["", *provenance_warnings(rep.groups), "Method: " + METHOD]
    return "\n".join(parts)


def render_markdown(rep: Report, images: list[str]) -> str:
    shown = _shown(rep.run_rows, RUN_COLUMNS)
    runs = markdown_table(shown, [[_fmt(r[c], c) for c in shown] for r in rep.run_rows])
    parts = ["# Run comparison", "", _count(rep) + "."]
    if rep.common:
        parts += ["", "All runs share: `" + ",".join(rep.common) + "`."]
    parts += [
        "",
        "## Runs",
        "",
        runs,
        "",
        "## Groups (runs that differ only by seed)",
        "",
        markdown_table(*display_group_rows(rep.group_rows)),
        "",
    ]
    for line in conclusions(rep.groups, rep.group_rows):
        parts += ["- " + line.strip()] if line.startswith("  ") else ["", line]
    parts += ["", *provenance_warnings(rep.groups), f"Method: {METHOD}", ""]
    parts += [f"![{name}]({name})\n" for name in images]
    return "\n".join(parts)


def write(rep: Report, out_dir: Path) -> list[Path]:
    """Write the tables and plots into ``out_dir`` (each file atomically); return the paths written."""
    images = plots.make_all(rep.groups)
    for name, png in images.items():
        write_bytes_atomic(out_dir / name, png)
    write_text_atomic(out_dir / "runs.csv", csv_text(RUN_COLUMNS, rep.run_rows))
    write_text_atomic(out_dir / "groups.csv", csv_text(GROUP_COLUMNS, rep.group_rows))
    write_text_atomic(out_dir / "report.md", render_markdown(rep, list(images)))
    return [out_dir / n for n in ("report.md", "runs.csv", "groups.csv", *images)]


def write_searches(studies: list, out_dir: Path) -> list[Path]:
    """``search.md`` (each study's trials and best command) and Optuna's plots, for the searches given."""
    if not studies:
        return []
    images = {name: png for study in studies for name, png in search_report.plots(study).items()}
    for name, png in images.items():
        write_bytes_atomic(out_dir / name, png)
    text = "\n\n".join(search_report.render(study, markdown_table) for study in studies)
    text += "".join(f"\n\n![{name}]({name})" for name in images)
    write_text_atomic(out_dir / "search.md", text + "\n")
    return [out_dir / "search.md", *(out_dir / name for name in images)]


def main(argv: list[str] | None = None) -> Report:
    ap = argparse.ArgumentParser(
        prog="report.py", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("folders", nargs="+", help="multirun or run folders (searched recursively)")
    ap.add_argument(
        "--sort",
        metavar="COLUMN",
        help="sort the tables by this column (runs: "
        + ", ".join(RUN_COLUMNS)
        + "; groups: "
        + ", ".join(GROUP_COLUMNS)
        + ")",
    )
    ap.add_argument("--desc", action="store_true", help="sort in descending order")
    ap.add_argument("--out", metavar="DIR", help="where to write the files (default: the first folder)")
    args = ap.parse_args(argv)
    rep = build(args.folders, args.sort, args.desc)
    print(render_text(rep))
    studies = [s for folder in args.folders for s in search_report.studies_in(Path(folder))]
    for study in studies:
        print("\n" + search_report.render(study, text_table))
    out = Path(args.out or args.folders[0])
    try:
        written = write(rep, out) + write_searches(studies, out)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    print("\nWrote " + ", ".join(str(p) for p in written))
    return rep
