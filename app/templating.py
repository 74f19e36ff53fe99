"""The Jinja2 environment shared by every page and partial.

Templates get `static_url(path)`, which appends ``?v=<short content hash>`` so that a
changed file gets a new URL; files imported by plain path (ES modules) are revalidated
instead (the static mount answers with ``Cache-Control: no-cache`` and an ETag). They also
get `class_colours`, the one list of class colours (app/palette.py).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from types import SimpleNamespace

from fastapi.templating import Jinja2Templates

from app.activation_plots import activation_plot
from app.guide import GLOSSARY, TAGLINE, TOUR
from app.palette import CLASS_COLOURS
from app.ui_table import BY_NAME, NOTE_MOST, PARTS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
VENDOR_DIR = ROOT / "node_modules" / "htmx.org" / "dist"
VENDOR_FILES = {"vendor/htmx.min.js": VENDOR_DIR / "htmx.min.js"}

_hashes: dict[tuple[str, int, int], str] = {}
_graphs: dict[tuple, list[str]] = {}
# `import ... from "./x.js"` and `import "./x.js"` in the page's modules
IMPORT = re.compile(r'^\s*(?:import|export)\b[^;]*?["\'](\./[\w.-]+\.js)["\']', re.M)


def static_path(path: str) -> Path:
    """The file on disk behind ``/static/<path>``."""
    path = path.lstrip("/")
    return VENDOR_FILES.get(path) or STATIC_DIR / path


def static_url(path: str) -> str:
    """``/static/<path>?v=<8 hex digits of the file's SHA-256>`` (no ``v`` if it is missing)."""
    path = path.lstrip("/")
    file = static_path(path)
    try:
        stat = file.stat()
    except OSError:
        return f"/static/{path}"
    key = (path, stat.st_mtime_ns, stat.st_size)
    digest = _hashes.get(key)
    if digest is None:
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:8]
        _hashes[key] = digest
    return f"/static/{path}?v={digest}"


def module_urls(entry: str = "js/main.js") -> list[str]:
    """The URLs of every ES module `entry` imports, directly or not, as the browser resolves
    them (plain paths, the way the modules import each other): the page preloads them all
    at once instead of discovering them one import level at a time."""
    folder = (STATIC_DIR / entry).parent
    files = sorted(folder.glob("*.js"))
    key = (entry, *((f.name, f.stat().st_mtime_ns) for f in files))
    if key not in _graphs:
        seen, todo = [], [(STATIC_DIR / entry).name]
        while todo:
            name = todo.pop()
            for dep in IMPORT.findall((folder / name).read_text()):
                dep = dep[2:]
                if dep not in seen and (folder / dep).is_file():
                    seen.append(dep)
                    todo.append(dep)
        base = "/static/" + str(Path(entry).parent)
        _graphs.clear()
        _graphs[key] = [f"{base}/{name}" for name in sorted(seen)]
    return _graphs[key]


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals["static_url"] = static_url
templates.env.globals["module_urls"] = module_urls
templates.env.globals["class_colours"] = CLASS_COLOURS
templates.env.globals["activation_plot"] = activation_plot
templates.env.globals["guide"] = SimpleNamespace(
    tagline=TAGLINE, tour=TOUR, glossary=GLOSSARY, projector_help=BY_NAME["projector"].help,
    parts=PARTS, note_most=NOTE_MOST)
