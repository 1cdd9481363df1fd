"""YAML as every file of ours is read: dates stay text, for the pydantic models to read.

PyYAML turns anything shaped like a date (`2024-11-31`, `due: 2024-13-45`) into a Python
date itself, and an impossible one raises a bare ValueError with no file, entry or field.
Left as text, the model reads it and its error names the field, like any other mistake.
"""

from __future__ import annotations

from typing import Any

import yaml

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _TextDates(yaml.SafeLoader):
    """The safe loader without the implicit timestamp rule (an explicit `!!timestamp` tag
    still works, and still fails as PyYAML does)."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def load(text: str) -> Any:
    """The YAML document in `text`, with dates as strings; raises yaml.YAMLError."""
    return yaml.load(text, Loader=_TextDates)  # a SafeLoader subclass: no objects built
