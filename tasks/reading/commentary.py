"""Owners' commentary on their indicators, from `commentary.yaml` in the exports folder.

Commentary is the owner's own words beside the figures: attributed, dated, and escaped
like every other text in the paper. An exception without commentary is itself reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tasks.reading.files import FileRefused, one_line, quote, read_small, utf8_text
from tasks.reading.problems import Problem, Severity
from tasks.settings import yaml_text
from tasks.settings.periods import is_period
from tasks.settings.yaml_text import TextDate

COMMENTARY_FILE = "commentary.yaml"


class Commentary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator: str
    period: str
    author: str
    date: TextDate
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    # The owner says it may be published whatever the figures: otherwise the public edition
    # prints it only where whether the indicator is an exception is published (an owner
    # writes when reminded of a restricted exception, so its being there could tell).
    public: bool = False


MAX_COMMENTARY_BYTES = 1 << 20  # a month's commentary is a few pages of text


def read_commentary(exports_dir: Path) -> tuple[list[Commentary], list[Problem]]:
    path = Path(exports_dir) / COMMENTARY_FILE
    if not path.exists() and not path.is_symlink():
        return [], []
    try:
        data = read_small(Path(exports_dir), path, MAX_COMMENTARY_BYTES)
        raw = yaml_text.load(utf8_text(data)) or []
        items = TypeAdapter(list[Commentary]).validate_python(raw)
    except FileRefused as exc:
        return [], [Problem(Severity.ERROR, path.name, None, None, str(exc))]
    except yaml.YAMLError as exc:
        return [], [Problem(Severity.ERROR, path.name, None, None,
                            f"not valid YAML: {one_line(exc)}")]
    except ValidationError as exc:
        return [], [Problem(Severity.ERROR, path.name, None, _place(e["loc"]), e["msg"])
                    for e in exc.errors()]
    problems = [Problem(Severity.ERROR, path.name, None, _place((i, "period")),
                        f"expected a period such as 2024-10, found {quote(c.period)}")
                for i, c in enumerate(items) if not is_period(c.period)]
    return items, problems


def _place(loc: tuple[int | str, ...]) -> str:
    """Where in the file, as its author sees it: "entry 2, field date" (entries from 1)."""
    if not loc:
        return "the whole file (expected a list of entries, each starting '- indicator:')"
    first, *rest = loc
    entry = f"entry {first + 1}" if isinstance(first, int) else str(first)
    return f"{entry}, field {'.'.join(map(str, rest))}" if rest else entry
