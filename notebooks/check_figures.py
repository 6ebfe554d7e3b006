"""Checks that executed notebooks kept their figures.

Usage: python check_figures.py EXECUTED_DIR

Every code cell that draws (calls ``plt.show()`` or displays an ``Image``)
must have at least one ``image/png`` output in the executed copy of its
notebook, and every notebook must have at least one figure. Exits non-zero
and names the notebook and cell otherwise. Run by ``run_all.sh`` after it
executes the notebooks.
"""

import json
import sys
from pathlib import Path

DRAWS = ("plt.show()", "display(Image(")


def check(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    problems = []
    figures = 0
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        images = sum(
            1
            for out in cell.get("outputs", [])
            if "image/png" in out.get("data", {})
        )
        figures += images
        if any(d in source for d in DRAWS) and images == 0:
            problems.append(f"{path.name}: cell {i} draws a figure but its output has none")
    if figures == 0:
        problems.append(f"{path.name}: no figures at all")
    return problems


def main() -> int:
    executed = Path(sys.argv[1])
    notebooks = sorted(executed.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        print(f"check_figures: no executed notebooks in {executed}")
        return 1
    problems = [p for nb in notebooks for p in check(nb)]
    for p in problems:
        print(f"check_figures: {p}")
    total = sum(
        1
        for nb in notebooks
        for c in json.loads(nb.read_text())["cells"]
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    )
    print(f"check_figures: {len(notebooks)} notebooks, {total} figures, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
