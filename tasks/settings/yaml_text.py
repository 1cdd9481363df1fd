"""YAML as every file of ours is read: text in, plain values out, or one clear error.

PyYAML turns anything shaped like a date (`2024-11-31`, `due: 2024-13-45`) into a Python
date itself, and an impossible one raises a bare ValueError with no file, entry or field;
so do tagged values (`!!int abc`, `!!timestamp x`), a 5,000-digit number, and a file of
a thousand nested brackets (RecursionError). Dates are left as text for the models to read,
and anything else PyYAML cannot build is a YAMLError naming what went wrong, which every
reader already turns into a message naming the file. A key given twice in one mapping
(two `head_front_door:` owners) is an error too: PyYAML would keep the last, silently.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _TextDates(yaml.SafeLoader):
    """The safe loader without the implicit timestamp rule, refusing repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: PyYAML says so below
                break
            if repeated:
                line = key_node.start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {str(key)[:60]!r} is given twice in one mapping "
                    f"(lines {seen[key].start_mark.line + 1} and {line}); expected it once",
                    key_node.start_mark)
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class Unreadable(yaml.YAMLError):
    """A value PyYAML could not build (a tagged value that is not what its tag says, a
    number too long, nesting too deep)."""


def load(text: str) -> Any:
    """The YAML document in `text`, with dates as strings; raises yaml.YAMLError."""
    try:
        return yaml.load(text, Loader=_TextDates)  # a SafeLoader subclass: no objects built
    except yaml.YAMLError:
        raise
    except RecursionError:
        raise Unreadable("nested too deeply to read") from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        what = " ".join(str(exc).split())[:120]
        raise Unreadable(f"a value cannot be read ({type(exc).__name__}: {what})") from None


def _text_date(value: Any) -> Any:
    """A date must be written as one (2024-09-30): pydantic would read a bare number as
    seconds since 1970 (`0` as 1 January 1970), silently."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"expected a date such as 2024-09-30, found the number {value!r}")
    return value


# A date field of our YAML files: written as a date, never a number.
TextDate = Annotated[date, BeforeValidator(_text_date)]
