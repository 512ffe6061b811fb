"""The plan is sound and the README says what it does: the plan, layout and catalogue
blocks of the README are generated from the plan (recsys_duck.docs), and every object
has exactly one file that creates it."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from recsys_duck import docs, pipeline
from recsys_duck.sql import layers, sql_dir

README = Path(__file__).resolve().parents[1] / "README.md"
CREATED = re.compile(
    r"^\s*create\s+(?:or\s+replace\s+)?(temp\s+|temporary\s+)?(?:table|view|macro)\s+"
    r"(?:if\s+not\s+exists\s+)?([\w.]+)",
    re.IGNORECASE | re.MULTILINE,
)


def _created(path: Path) -> list[tuple[bool, str]]:
    """(temporary, name) of every object the file creates."""
    code = "\n".join(line.split("--", 1)[0] for line in path.read_text().splitlines())
    return [(bool(temp), name) for temp, name in CREATED.findall(code)]


def test_readme_blocks_are_the_plans() -> None:
    readme = README.read_text(encoding="utf-8")
    assert docs.render(readme) == readme, "regenerate: python -m recsys_duck.docs README.md"


def test_the_plan_runs_every_layer_and_fills_only_declared_tables() -> None:
    assert pipeline.check() == []
    assert pipeline.layer_names() == layers()


def test_every_object_has_one_file_under_its_layer() -> None:
    """A layer file ``<name>.sql`` creates the object ``<name>``, or a family of macros
    (``lookups.sql``); the parts beside it (``<name>.<part>.sql``) and the steps of the
    commands create only temporary objects; no object is created twice."""
    owners: Counter[str] = Counter()
    for layer in layers():
        for path in sorted((sql_dir() / layer).glob("*.sql")):
            created = _created(path)
            if "." in path.stem:
                # Parts stage in temporary tables or the scratch database, all _recsys_*.
                permanent = [n for temp, n in created if not temp and not n.startswith("_recsys")]
                assert permanent == [], f"{path.name} creates {permanent}; only its layer may"
                continue
            names = [name for _, name in created]
            family = names and docs.kind(path) == "macro"
            assert path.stem in names or family, f"{path.name} does not create {path.stem}"
            owners.update(names)
    for path in sorted((sql_dir() / "steps").rglob("*.sql")):
        if path.parent.name == "tables":  # publish/tables: copies in PostgreSQL, not here
            continue
        for temp, name in _created(path):
            # Steps may stage temporary tables, and the evaluation its training schema.
            assert temp or "." in name or name.startswith(("eval_", "_recsys")), (
                f"{path.relative_to(sql_dir())} creates {name}, which belongs to a layer"
            )
    twice = sorted(name for name, n in owners.items() if n > 1)
    assert twice == [], f"created by more than one file: {twice}"
