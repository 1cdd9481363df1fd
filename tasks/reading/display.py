"""Names from outside as display text: the one function every name or code passes through
before a console, a log, a paper or a workbook shows it.

File names, sheet names, column headings, codes and team names come from exports that
people and other systems write. A newline in a file name would print a second line that
reads as a finding of its own (a forged `ERROR:`); an escape sequence would drive the
terminal; a right-to-left override (U+202E) makes "60AL" display as "LA06". Such
characters are shown, never obeyed: `\\n`, `\\r` and `\\t` as those two characters, any
other control, format (bidi, zero-width) or line-separator character as `<U+202E>`.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Unicode categories never drawn as themselves: controls (Cc), format characters such as the
# bidi overrides and isolates and zero-width joiners (Cf), surrogates (Cs), and the line
# and paragraph separators (Zl, Zp).
_HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _escaped(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    if unicodedata.category(ch) in _HIDDEN:
        return f"<U+{ord(ch):04X}>"
    return ch


def shown(text: object) -> str:
    """`text` with every control, bidi and invisible formatting character made visible, so
    what a reader sees is one line that says what is really there."""
    s = str(text)
    if s.isprintable():
        return s  # the common case: nothing to escape
    return "".join(_escaped(ch) for ch in s)

