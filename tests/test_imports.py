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


# The README's layout: "nothing imports a room above it"; the shared modules beside the rooms (errors, files,
# values, stats, cli) import none. The package's __init__ imports config.sweep_naming to register its resolver.
ROOM_LEVEL = {"data": 0, "models": 0, "config": 1, "run": 2, "inference": 3, "search": 3, "reporting": 4}


def test_no_room_imports_a_room_above_it():
    package = REPO / "src" / "imdb_sentiment"
    upward = []
    for path in package.rglob("*.py"):
        room = path.relative_to(package).parts[0]
        if room == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):  # function-level imports count too
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                parts = name.split(".")
                if parts[0] != "imdb_sentiment" or len(parts) < 2 or parts[1] not in ROOM_LEVEL:
                    continue
                if room not in ROOM_LEVEL or ROOM_LEVEL[parts[1]] > ROOM_LEVEL[room]:
                    upward.append(f"{path.relative_to(REPO)} imports {name}")
    assert set(ROOM_LEVEL) == {p.name for p in package.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert not upward, upward
