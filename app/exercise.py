"""Exercises (classroom mode): a teacher's link that starts each student's session with
parts of the page hidden or locked, and a note on a banner.

An exercise is part of the session document (``"exercise": {"note", "hidden",
"locked"}``), so it lasts as the session does, and the session itself refuses a change to
a part the exercise hides or locks (`Session` calls `check`): a control the page greys
out is refused by the server too, whichever way the change comes (a form, the socket, the
JSON API). The parts are the settings table's (`ui_table.PARTS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app import ui_table
from app.errors import AppError, BadInput

# Settings an exercise never locks: the speed of training changes what a student watches,
# not what the network learns.
ALWAYS_OPEN = frozenset({"speed"})


class Locked(AppError):
    """A change to a part of the page that this session's exercise hides or locks."""

    status = 403

    def __init__(self, part: str, field: str | None = None) -> None:
        super().__init__(f"locked in this exercise ({ui_table.PARTS[part]})", field or part)


def from_view(view: Mapping) -> dict | None:
    """The exercise a link's view asks for (`hide`, `lock`, `note`), or None for none."""
    hidden = sorted(view.get("hide") or ())
    locked = sorted(set(view.get("lock") or ()) - set(hidden))
    note = view.get("note") or ""
    if not (hidden or locked or note):
        return None
    return {"note": note, "hidden": hidden, "locked": locked}


def checked(doc: object) -> dict | None:
    """A session document's ``exercise``, validated (None: no exercise)."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise BadInput("expected an object or null", "exercise")
    out = {}
    for key in ("hidden", "locked"):
        names = doc.get(key, [])
        if not isinstance(names, list) or not all(n in ui_table.PARTS for n in names):
            raise BadInput(f"expected a list of {', '.join(ui_table.PARTS)}", f"exercise.{key}")
        out[key] = sorted(set(names))
    note = doc.get("note", "")
    if not isinstance(note, str) or len(note) > ui_table.NOTE_MOST:
        raise BadInput(f"expected text of at most {ui_table.NOTE_MOST} characters",
                       "exercise.note")
    out["note"] = note
    return out


def check(exercise: dict | None, parts: Iterable[tuple[str, str | None]]) -> None:
    """Raise `Locked` for the first (part, field) the exercise hides or locks."""
    if not exercise:
        return
    closed = set(exercise["hidden"]) | set(exercise["locked"])
    for part, field in parts:
        if part in closed:
            raise Locked(part, field)


def model_parts(changes: Mapping, current: Mapping) -> list[tuple[str, str]]:
    """(part, field) of each structural model change (`Session.configure`'s keys) that
    differs from the `current` model document (a form posts values it leaves as they were)."""
    out = []
    for key in changes:
        was = current["layers"][1:-1] if key == "hidden" else current.get(key)
        if key == "optimizer" and isinstance(changes[key], Mapping):
            was = {k: v for k, v in (was or {}).items() if k in changes[key]}
        if changes[key] == was:
            continue
        if key == "loss_params":
            out.append(("output", key))
            continue
        name = "hidden" if key in ("hidden", "layers") else ui_table.setting_of_field(key) or key
        setting = ui_table.BY_NAME.get(name)
        out.append((setting.group if setting else "architecture", key))
    return out


def dataset_parts(old: Mapping, new: Mapping) -> list[tuple[str, str]]:
    """(part, field) of each difference between two dataset specs (none for a `new` that
    is not a spec at all: its own check refuses it, naming its field)."""
    if not isinstance(new, Mapping):
        return []
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out.append(("features" if key == "features" else "data", key))
    return out


def live_parts(names: Iterable[str]) -> list[tuple[str, str]]:
    """(part, field) of live settings (`Session.set_training`'s names), but those
    `ALWAYS_OPEN`."""
    return [(ui_table.BY_NAME[n].group, n) for n in names
            if n in ui_table.BY_NAME and n not in ALWAYS_OPEN]
