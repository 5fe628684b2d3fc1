"""What an Optuna search found: its trials by objective with their parameters, the best trial's command, and
Optuna's own plots of the optimisation history and of the parameters' importances."""

from __future__ import annotations

import io
import shlex
import warnings
from pathlib import Path

from imdb_sentiment.search.study import JOURNAL


def studies_in(folder: Path) -> list:
    """The studies of ``folder/optuna.journal`` (none when it holds no search)."""
    if not (folder / JOURNAL).is_file():
        return []
    import optuna

    from imdb_sentiment.search.study import storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store = storage(folder)
    return [optuna.load_study(study_name=name, storage=store) for name in optuna.get_all_study_names(store)]


def trial_rows(study) -> list[dict]:
    """One row a trial: completed ones best first, then failed and running ones by number."""
    from optuna.trial import TrialState

    def order(t):
        done = t.state == TrialState.COMPLETE
        return (not done, -(t.value or 0) if study.direction.name == "MAXIMIZE" else (t.value or 0), t.number)

    return [
        {
            "trial": t.number,
            "state": t.state.name.lower(),
            "objective": t.value,
            **t.params,
            "error": t.user_attrs.get("error", ""),
        }
        for t in sorted(study.get_trials(deepcopy=False), key=order)
    ]


def best_command(study) -> str | None:
    """The command line that reruns the best trial as one run."""
    from optuna.trial import TrialState

    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        return None
    from imdb_sentiment.search.space import as_override

    command = study.user_attrs.get("setup", {}).get("command", [])
    params = [as_override(k, v) for k, v in study.best_trial.params.items()]
    return "python src/train.py " + " ".join(shlex.quote(a) for a in [*command, *params])


def plots(study) -> dict[str, bytes]:
    """PNG bytes by file name; the importances need two completed trials that differ."""
    import optuna.visualization.matplotlib as ovm
    from optuna.exceptions import ExperimentalWarning

    out = {}
    for name, plot in (("history", ovm.plot_optimization_history), ("importances", ovm.plot_param_importances)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                ax = plot(study)
        except (ValueError, RuntimeError, ZeroDivisionError):  # too few completed trials for this plot
            continue
        buf = io.BytesIO()
        ax.figure.set_size_inches(8, 5)
        ax.figure.tight_layout()
        ax.figure.savefig(buf, format="png", dpi=100)
        out[f"search_{study.study_name}_{name}.png"] = buf.getvalue()
        import matplotlib.pyplot as plt

        plt.close(ax.figure)
    return out


def render(study, table) -> str:
    """A study's section: counts, the trials' table (``table(header, body)`` formats it) and the best command."""
    rows = trial_rows(study)
    params = sorted({k for r in rows for k in r} - {"trial", "state", "objective", "error"})
    header = ["trial", "state", "val/acc", *params, "error"]
    body = [
        [
            str(r["trial"]),
            r["state"],
            "" if r["objective"] is None else f"{r['objective']:.4f}",
            *(_fmt(r.get(p)) for p in params),
            r["error"],
        ]
        for r in rows
    ]
    states = [r["state"] for r in rows]
    counts = ", ".join(f"{states.count(s)} {s}" for s in dict.fromkeys(states))
    command = best_command(study)
    return "\n".join(
        [
            f"Search {study.study_name!r}: {len(rows)} trials ({counts})",
            table(header, body),
            f"Best trial's command: {command}" if command else "No trial has completed yet.",
        ]
    )


def _fmt(value) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
