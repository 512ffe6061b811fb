"""The README's plan, layout and catalogue, generated from the plan and the SQL files.

``python -m recsys_duck.docs README.md`` rewrites the blocks between the markers
``<!-- plan -->``, ``<!-- layout -->`` and ``<!-- catalogue -->`` and their ``<!-- end -->``;
``tests/test_docs.py`` fails when the README differs from what this module generates,
as sqlite-utils' documentation tests do.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from recsys_duck.pipeline import PLAN, Step
from recsys_duck.sql import layer_files, sql_dir

_CREATES = re.compile(
    r"create\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?(table|view|macro)\s", re.IGNORECASE
)


def _header(path: Path) -> str:
    """The file's opening comment as one line, without the leading ``name:``."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    text = " ".join(lines)
    return text.split(":", 1)[1].strip() if text.startswith(path.stem + ":") else text


def grain(path: Path) -> str:
    """The first sentence of the file's opening comment: its grain and purpose."""
    text = _header(path)
    match = re.search(r"\.(\s|$)", text)
    sentence = text[: match.start()] if match else text
    return sentence.replace("|", "\\|")


def kind(path: Path) -> str:
    """What the file creates: table, view or macro."""
    match = _CREATES.search(path.read_text(encoding="utf-8"))
    return match.group(1).lower() if match else "?"


def _fillers() -> dict[str, list[str]]:
    """Each table that steps other than its layer fill, and those steps' names."""
    found: dict[str, list[str]] = {}
    for step in PLAN:
        for table in () if step.is_layer else step.fills:
            found.setdefault(table, []).append(step.name)
    return found


def _scopes(step: Step) -> str:
    modes = ("build", "train", "increment", "refresh")
    return ", ".join(mode for mode in modes if mode in step.modes)


def _engine(step: Step) -> str:
    """Where a step runs in a build that Spark computes (``build --engine spark``)."""
    if step.is_layer:
        return "both" if step.spark else "DuckDB"
    if step.driver:
        return "DuckDB, handed to Spark" if step.fills else "DuckDB"
    return "Spark, handed to DuckDB"


def plan_markdown() -> str:
    """The plan as a table: one row per step, in the order it runs."""
    rows = [
        "| step | runs in | needs | with `--engine spark` | creates or fills |",
        "|---|---|---|---|---|",
    ]
    for step in PLAN:
        objects = ", ".join(f"`{name}`" for name in step.objects()) or "(a check)"
        needs = step.needs or ""
        rows.append(f"| `{step.name}` | {_scopes(step)} | {needs} | {_engine(step)} | {objects} |")
    return "\n".join(rows)


def layout_markdown() -> str:
    """The folders of ``sql/`` in the order the plan runs them."""
    layers = [step.name for step in PLAN if step.is_layer]
    steps = sorted(p.name for p in (sql_dir() / "steps").iterdir() if p.is_dir())
    parts = sorted({p.name.split(".")[1] for p in sql_dir().glob("[0-9]*/*.*.sql")})
    return "\n".join(
        [
            "```",
            "sql/          the layers, in the order the plan runs them:",
            *(f"                {name}/" for name in layers),
            "              <object>.sql creates one object; <object>.<part>.sql beside it fill it",
            "              (" + ", ".join(parts) + ");",
            "              audits/ holds queries that return offending rows; steps/ what",
            "              belongs to one command: " + ", ".join(f"{name}/" for name in steps),
            "```",
        ]
    )


def catalogue_markdown() -> str:
    """Every object the layers create: kind, what fills it, and its grain."""
    fillers = _fillers()
    rows = ["| object | kind | layer | filled by | grain / purpose |", "|---|---|---|---|---|"]
    for step in PLAN:
        if not step.is_layer:
            continue
        for path in layer_files(step.name):
            filled = ", ".join(f"`{name}`" for name in fillers.get(path.stem, []))
            rows.append(
                f"| `{path.stem}` | {kind(path)} | {step.name} | {filled} | {grain(path)} |"
            )
    return "\n".join(rows)


BLOCKS = {"plan": plan_markdown, "layout": layout_markdown, "catalogue": catalogue_markdown}


def render(readme: str) -> str:
    """``readme`` with every generated block replaced by what the plan says now."""
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- {name} -->\n)(?:.*?\n)??(<!-- end -->)", re.DOTALL)
        found = pattern.search(readme)
        if found is None:
            raise ValueError(f"the README has no <!-- {name} --> ... <!-- end --> block")
        readme = readme[: found.end(1)] + make() + "\n" + readme[found.start(2) :]
    return readme


def main(argv: list[str]) -> int:
    (path,) = argv
    target = Path(path)
    target.write_text(render(target.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
