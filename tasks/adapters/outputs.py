"""Writing outputs so that a reader never sees half a file: write aside, then rename."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write beside the target and rename over it, with the usual permissions (not 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def cycle_dir(out_dir: Path, authority_code: str, cycle: str) -> Path:
    return Path(out_dir) / authority_code / cycle


# A cycle's folder holds one complete set of outputs, all from one run:
#   <out>/<authority>/<cycle>/public/      what may be published, and nothing else
#   <out>/<authority>/<cycle>/restricted/  the restricted edition, summary.json, packs
#   <out>/<authority>/<cycle>/set.json     the marker: which run's set this is
# A run builds its set in a staging folder beside it and switches it in by renaming
# folders, so a failure at any point leaves the previous set or the new one, whole.
# The outbox (<out>/<authority>/outbox/<cycle>/) and the history store are not part of a
# set: mail already sent stays where it was sent, whatever happens to the papers.
PUBLIC_DIR, RESTRICTED_DIR = "public", "restricted"
MARKER_NAME = "set.json"
PUBLIC_NAMES = frozenset({"briefing.html", "briefing.pdf", "briefing-public.html",
                          "briefing-public.pdf", "briefing-public.xlsx",
                          "indicators-public.csv"})
_STAGING, _ASIDE = ".staging-", ".previous-"


class OutputUnwritable(OSError):
    """The output folder cannot take the cycle's set (permissions, a full disk, a file
    that cannot be replaced): the previous complete set, if any, is left as it was."""


def in_set(folder: Path, name: str) -> Path:
    """Where a file named `name` lives in a cycle's set: public or restricted."""
    return Path(folder) / (PUBLIC_DIR if name in PUBLIC_NAMES else RESTRICTED_DIR) / name


def outbox_dir(out_dir: Path, authority_code: str, cycle: str) -> Path:
    """Where .eml files go when not sending: outside every set, restricted."""
    return Path(out_dir) / authority_code / "outbox" / cycle


def _leftovers(live: Path) -> list[Path]:
    return sorted(live.parent.glob(f".{live.name}{_STAGING}*")) + sorted(
        live.parent.glob(f".{live.name}{_ASIDE}*"))


def recover(live: Path) -> None:
    """A run stopped between the two renames of a switch leaves no live folder and the
    previous set aside: put it back. Called under the cycle's lock, before staging."""
    if live.exists():
        return
    aside = sorted(live.parent.glob(f".{live.name}{_ASIDE}*"))
    for folder in reversed(aside):
        if (folder / MARKER_NAME).is_file():
            os.rename(folder, live)
            return


def _remove(folder: Path) -> str | None:
    """Remove a folder left by an earlier run; the reason it could not be, else None."""
    import shutil

    errors: list[str] = []
    shutil.rmtree(folder, onerror=lambda _f, p, e: errors.append(f"{p}: {e[1]}"))
    return f"{folder} could not be removed ({errors[0]})" if errors else None


def start_staging(live: Path) -> tuple[Path, list[str]]:
    """A new, empty staging folder beside `live`, after clearing what earlier runs left
    (their staging, a previous set they could not remove); returns what could not be
    cleared, to be said, never to stop the run."""
    try:
        recover(live)
        notes = [n for n in (_remove(f) for f in _leftovers(live)) if n]
        staging = live.parent / f".{live.name}{_STAGING}{uuid.uuid4().hex[:12]}"
        for part in (PUBLIC_DIR, RESTRICTED_DIR):
            (staging / part).mkdir(parents=True)
    except OSError as exc:
        raise OutputUnwritable(exc.errno, f"{live.parent}: cannot make the cycle's set "
                                          f"({exc.strerror})") from None
    return staging, notes


def write_marker(staging: Path, marker: dict[str, Any]) -> None:
    """The marker, written last: a set without one is not complete."""
    files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
    write_json_atomic(staging / MARKER_NAME, {**marker, "files": files})


def switch_in(staging: Path, live: Path) -> list[str]:
    """Put the staged set in `live`'s place: the previous set is renamed aside, the new
    one renamed in, the previous removed. Raises OutputUnwritable, with the previous set
    back in place, if the folder cannot be switched; returns what could not be removed."""
    aside = live.parent / f".{live.name}{_ASIDE}{staging.name.rsplit('-', 1)[-1]}"
    had = live.exists()
    try:
        if had:
            os.rename(live, aside)
        try:
            os.rename(staging, live)
        except OSError:
            if had:
                os.rename(aside, live)
            raise
    except OSError as exc:
        raise OutputUnwritable(exc.errno, f"{live}: the new set could not be switched in "
                                          f"({exc.strerror}); the previous set is "
                                          f"unchanged, the new one is in {staging}") from None
    note = _remove(aside) if had else None
    return [note] if note else []
