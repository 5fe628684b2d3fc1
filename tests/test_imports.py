"""Every name the code imports from the project exists: a moved module or a stale path fails here, in the fast
tier, rather than inside a SLURM job."""

import ast
import importlib

from conftest import REPO


def test_every_project_import_resolves():
    missing = []
    for path in [*(REPO / "src").rglob("*.py"), *(REPO / "tests").glob("*.py"), *(REPO / "benchmarks").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("imdb_sentiment", "hydra_plugins")):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{path.relative_to(REPO)}: from {node.module} import {alias.name}")
    assert not missing, missing


def test_configured_targets_import():
    import re

    from hydra.utils import get_object

    targets = {t for p in (REPO / "configs").rglob("*.yaml") for t in re.findall(r"_target_: *([\w.]+)", p.read_text())}
    assert targets and all(get_object(t) for t in targets)
