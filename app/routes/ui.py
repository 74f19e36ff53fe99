"""htmx endpoints of the control panel: each posts a form and answers with a partial.

Every form is read through the settings table (`app.ui_table`): the posted fields
are coerced and checked there, the changes are applied to the session (structural
ones through `replace_dataset` / `configure`, live ones through `set_training`),
and the partial named after the element it replaces is rendered from the
session's new state. A refused change leaves the session as it was and the
partial says why.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import Markup

from app import exercise as exercises
from app import jsonsafe, ui_table, urlstate
from app.errors import AppError
from app.palette import class_colour
from app.templating import templates
from app.ui_table import BY_NAME, SETTINGS, SettingError
from engine.csvdata import parse_csv
from engine.errors import EngineError

router = APIRouter(prefix="/ui", include_in_schema=False)

THUMB_POINTS = 120


# ---- what the partials render from ------------------------------------------------


class Playground:
    """Everything the playground partials need, read from one session document."""

    settings = BY_NAME
    max_layers = ui_table.MAX_LAYERS
    max_neurons = ui_table.MAX_NEURONS
    # The settings inside the "Output / loss / init / seed" drop-down (open when one of
    # them was refused, so that its message shows).
    more_fields = {"output_activation", "loss", "init", "seed", "momentum", "dampening",
                   "alpha", "beta1", "beta2", "eps", "weight_decay"}

    def __init__(self, doc: Mapping, view: Mapping | None = None, errors=(),
                 csv_error: str | None = None, errors_in: str = "controls") -> None:
        """`errors`: refused changes (exceptions with a field, or texts); one whose field
        is a control shown on the page is said beside that control, the rest at the top of
        panel `errors_in` ("controls" or "data_panel")."""
        self.doc = doc
        self.sid = doc["id"]
        self.rev = doc.get("version", 0)  # the panels say which state they show (data-rev)
        self.view = dict(ui_table.defaults() | {"hide": ()}) | dict(view or {})
        # an exercise's hidden parts are hidden whatever the page's link says (app/exercise.py)
        exercise = doc.get("exercise") or {}
        self.hide = set(self.view.get("hide") or ()) | set(exercise.get("hidden", ()))
        self.locked = set(exercise.get("locked", ()))
        self.values = ui_table.values_from_session(doc, self.view)
        self.field_errors: dict[str, str] = {}
        self.errors = []
        for e in errors:
            name = ui_table.setting_of_field(getattr(e, "field", None))
            if name in BESIDE and self.shown(name) and name not in self.field_errors:
                self.field_errors[name] = _error_text(e)
            else:
                self.errors.append(e if isinstance(e, str) else _error_text(e))
        self.errors_in = errors_in
        self.more_open = bool(self.field_errors.keys() & self.more_fields)
        self.csv_error = csv_error
        self.undo_label = (doc.get("undo") or {}).get("label")
        training = doc.get("training") or {}
        self.playing = bool(training.get("playing"))
        self.epoch = training.get("epoch", 0)
        self.task = ui_table.task_of(self.values)
        self.n_classes = ui_table.n_classes_of(self.values) if self.task != "regression" else 0
        self.task_label = ("regression" if self.task == "regression"
                           else f"{self.n_classes} class{'' if self.n_classes == 1 else 'es'}")
        self.n_points = self.values.get("n_points")
        if self.values["dataset"] == "csv":
            self.n_points = len(self.values.get("points", ()))
        self.hide_text = ",".join(sorted(self.hide))
        self.auto_out, self.auto_loss = ui_table.auto_output(
            self.task, ui_table.n_outputs_of(self.values))
        out, loss = ui_table.resolved_output(self.values)
        self.resolved = (out, loss)
        self.output_choices = ui_table.output_choices(self.values)
        self.loss_choices = ui_table.loss_choices(self.values, out)
        self.output_reason = _output_reason(self.task, ui_table.n_outputs_of(self.values),
                                            out, loss)

    @property
    def recommended(self) -> dict:
        """The dataset's recommended network when the session does not use it yet ({})."""
        rec = ui_table.recommended(self.values["dataset"])
        return rec if any(self.values[k] != v for k, v in rec.items()) else {}

    @property
    def recommended_text(self) -> str:
        rec = ui_table.recommended(self.values["dataset"])
        parts = []
        if "features" in rec:
            parts.append(f"{len(rec['features'])} features")
        if "hidden" in rec:
            parts.append("hidden layers " + "-".join(map(str, rec["hidden"])))
        return ", ".join(parts)

    @property
    def thumbnails(self):
        return [(name, thumbnail(name)) for name in ui_table.DATASET_NAMES]

    def shown_group(self, group: str) -> bool:
        return group not in self.hide

    def lock_group(self, name: str) -> str:
        """The part of the page an exercise locks setting `name` with ("" for none)."""
        return "" if name in exercises.ALWAYS_OPEN else BY_NAME[name].group

    def locked_setting(self, name: str) -> bool:
        """Whether the exercise locks setting `name`'s control (shown, greyed out)."""
        return self.lock_group(name) in self.locked

    def shown(self, name: str) -> bool:
        s = BY_NAME[name]
        if name in self.hide or s.group in self.hide:
            return False
        return s.only_if is None or s.only_if(self.values)

    def choices(self, name: str) -> tuple:
        s = BY_NAME[name]
        v = self.values[name]
        if s.kind == "float" and v not in s.choices:  # a linked value off the list stays
            return tuple(sorted((*s.choices, v)))
        return s.choices

    def fmt(self, name: str, value) -> str:
        return ui_table.format_value(name, value)

    def option(self, name: str, value) -> str:
        """The text of choice `value` of setting `name` in its drop-down."""
        labels = BY_NAME[name].labels
        return labels[value] if labels and value in labels else self.show(value)

    @staticmethod
    def show(value) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    def layer_act(self, k: int) -> str:
        acts = self.values["layer_activations"]
        return acts[k] if acts else self.values["activation"]


# Settings whose control can show its own error beside it (the rest: at the panel's top).
BESIDE = {s.name for s in SETTINGS if s.control in ("select", "range", "number", "checkbox")}
BESIDE |= {"hidden", "output_activation", "loss"}


def _output_reason(task: str, n_out: int, out: str, loss: str) -> str:
    if task == "regression":
        why = "a regression: one unbounded output compared with the target value"
    elif n_out > 1:
        why = f"{n_out} classes: one output per class, softmax makes them probabilities"
    else:
        why = "two classes: one output, the score of class 1"
    return f"Using {out} with {loss} loss ({why}). Pairs that cannot work are greyed out."


def playground_context(session, view: Mapping | None = None, **kw) -> Playground:
    """The partials' context from a `Session` (or its `to_dict()` document)."""
    doc = session if isinstance(session, Mapping) else session.to_dict()
    return Playground(doc, view, **kw)


templates.env.globals["playground_context"] = playground_context


@functools.lru_cache(maxsize=32)
def thumbnail(name: str) -> Markup:
    """A small SVG of dataset `name` (its default spec, few points): one path of dots per
    colour, so a thumbnail is a handful of elements, not one per point (the page redraws
    faster with fewer elements)."""
    from engine.datasets import EXTENT, generate

    d = generate({"name": name, "n_points": THUMB_POINTS, "seed": 3, "noise": 5})
    points = d.train_points.tolist() + d.test_points.tolist()
    labels = d.train_labels.tolist() + d.test_labels.tolist()
    lo, hi = (min(labels), max(labels)) if d.task == "regression" else (0, 1)
    r = 0.45
    groups: dict[tuple[str, float], list[str]] = {}
    for (x1, x2), y in zip(points, labels, strict=True):
        if d.task == "regression":
            t = 0.5 if hi == lo else (y - lo) / (hi - lo)
            colour = class_colour(1 if t >= 0.5 else 0)  # the ramp's two ends
            opacity = round(0.3 + 0.7 * round(abs(2 * t - 1) * 4) / 4, 2)  # 5 shades
        else:
            colour, opacity = class_colour(y), 1.0
        # a dot: a circle of radius r around (x1, -x2), as two arcs
        groups.setdefault((colour, opacity), []).append(
            f"M{x1 - r:.2f} {-x2:.2f}a{r} {r} 0 1 0 {2 * r} 0a{r} {r} 0 1 0 {-2 * r} 0")
    paths = []
    for (colour, opacity), dots in sorted(groups.items()):
        fade = "" if opacity == 1 else f' fill-opacity="{opacity}"'
        paths.append(f'<path fill="{colour}"{fade} d="{"".join(dots)}"/>')
    e = EXTENT
    return Markup(f'<svg viewBox="{-e} {-e} {2 * e} {2 * e}" width="44" height="44" '
                  f'aria-hidden="true">{"".join(paths)}</svg>')


# ---- reading forms -----------------------------------------------------------------


def _view_of(form: Mapping) -> dict:
    hide = form.get("hide") or ""
    try:
        names = ui_table.coerce("hide", hide)
    except SettingError:
        names = ()
    view = {"hide": set(names)}
    for name in ui_table.VIEW_TOGGLES:
        if name in form:
            view[name] = ui_table.coerce(name, form[name])
    return view


def values_from_form(current: dict, form) -> dict:
    """`current` with every posted setting coerced (SettingError names a bad one)."""
    values = dict(current)
    for s in SETTINGS:
        if s.home == "view" or s.control in ("none", "per_layer", "layers", "toggles"):
            continue
        if s.name in form:
            values[s.name] = ui_table.coerce(s.name, form[s.name])
    if "features" in form.getlist("_has"):
        values["features"] = ui_table.coerce("features", form.getlist("features"))
    acts = form.getlist("layer_act")
    if acts and len(acts) == len(values["hidden"]):
        acts = ui_table.coerce("layer_activations", acts)
        values["layer_activations"] = acts
    if "activation" in form and form["activation"] != current["activation"]:
        values["layer_activations"] = ()  # the network's activation sets every layer
    return values


def _apply_op(values: dict, op: str) -> None:
    """The +/- buttons and the data buttons, as edits of `values`."""
    import secrets

    hidden = list(values["hidden"])
    acts = list(values["layer_activations"])
    if op == "add_layer" and len(hidden) < ui_table.MAX_LAYERS:
        hidden.append(hidden[-1] if hidden else 2)
        if acts:
            acts.append(acts[-1])
    elif op == "remove_layer" and hidden:
        hidden.pop()
        if acts:
            acts.pop()
    elif op.startswith(("add_neuron:", "remove_neuron:")):
        k = op.split(":", 1)[1]
        if not (k.isascii() and k.isdigit()):
            raise SettingError("op", f"{op!r}: expected a layer number after ':'")
        k = int(k)
        if 0 <= k < len(hidden):
            delta = 1 if op.startswith("add") else -1
            hidden[k] = min(max(hidden[k] + delta, 1), ui_table.MAX_NEURONS)
    elif op == "regenerate":
        values["data_seed"] = secrets.randbits(31)
    elif op == "clear_points":
        values["extra_points"] = ()
    elif op == "recommended":
        rec = ui_table.recommended(values["dataset"])
        hidden, acts = list(rec.get("hidden", hidden)), []
        values.update({k: v for k, v in rec.items() if k != "hidden"})
    values["hidden"] = tuple(hidden)
    values["layer_activations"] = tuple(acts)


# ---- applying values to a session ---------------------------------------------------

# The model document's structural fields: a change of any of them is a new network.
# (Live settings, `ui_table.LIVE`, change a running network in place.)
STRUCTURE_KEYS = ("layers", "activation", "layer_activations", "output_activation", "loss",
                  "init", "seed")


def _structure(doc: Mapping) -> dict:
    """The structural part of a model document built by `ui_table.model_document`."""
    out = {k: doc.get(k) for k in STRUCTURE_KEYS}
    out["optimizer"] = {k: v for k, v in doc["optimizer"].items() if k != "learning_rate"}
    return out


def _data_of(values: Mapping) -> dict:
    """The dataset as values hold it (settings and, for a CSV, its points)."""
    data = {s.name: values[s.name] for s in SETTINGS if s.home == "dataset"}
    data["points"] = tuple(values.get("points", ()))
    return data


def apply_values(session, values: dict) -> None:
    """Make the session match `values` through the session's own calls, changing only
    what differs:

    - a new network (structure, or a data change that is more than added points) is one
      `configure` (one check, one snapshot, nothing half-applied);
    - added or removed points keep the model as it is (`edit_points`), and can be undone;
    - live settings go through `set_training` and leave weights, epoch, optimizer state
      and history alone.

    Both sides are compared as documents built by the same function, so a form that
    posts every field (one `layer_act` per layer, ...) changes nothing it does not mean."""
    ui_table.check_combination(values)
    current = ui_table.values_from_session(session.to_dict())
    target = ui_table.model_document(values)
    data_now, data_next = _data_of(current), _data_of(values)
    data_changed = data_now != data_next
    points_only = data_changed and {k for k in data_now if data_now[k] != data_next[k]} == {
        "extra_points"}
    structure_changed = _structure(target) != _structure(ui_table.model_document(current))
    if structure_changed or (data_changed and not points_only):
        changes = {k: target[k] for k in ("activation", "output_activation", "loss", "init",
                                          "seed")}
        changes["hidden"] = list(values["hidden"])
        changes["layer_activations"] = target.get("layer_activations")
        changes["optimizer"] = {**target["optimizer"],
                                "learning_rate": current["learning_rate"]}
        session.configure(changes, dataset=_dataset_spec(values) if data_changed else None)
    elif points_only:
        session.edit_points([list(p) for p in values["extra_points"]])
    live = {n: values[n] for n in ui_table.LIVE if values[n] != current[n]}
    if live:
        session.set_training(**live)


def _dataset_spec(values: dict) -> dict:
    spec = ui_table.dataset_spec(values)
    if values["dataset"] == "csv":
        spec.pop("classes", None)
    return spec


def _error_text(exc: Exception) -> str:
    field = getattr(exc, "field", None)
    message = getattr(exc, "message", None) or str(exc)
    return f"{field}: {message}" if field and not message.startswith(str(field)) else message


# ---- rendering ------------------------------------------------------------------------


def page_url(session_doc: Mapping, view: Mapping, weights: bool = False,
             share: bool = False) -> str:
    """The page's address (path and query): `/s/{id}?<settings>`, this very session (a
    reload or a second tab attaches to it); with `share`, `/?<settings>`, a link that
    starts a new session reproducing this run (`weights`: with its current weights)."""
    values = ui_table.values_from_session(session_doc, view)
    for name in ui_table.VIEW_TOGGLES:
        values[name] = bool(view.get(name, False))
    values["hide"] = tuple(sorted(view.get("hide") or ()))
    query = urlstate.serialize(values, session_doc["model"] if weights else None)
    return f"/?{query}" if share else f"/s/{session_doc['id']}?{query}"


def _render(request: Request, names: list[str], pg: Playground, headers=None,
            **extra) -> HTMLResponse:
    """Partials concatenated: the first is the swap target, the rest go out of band."""
    parts = []
    for k, name in enumerate(names):
        tpl = templates.env.get_template(f"partials/{name}.html")
        html = tpl.render(request=request, pg=pg, session=pg.doc, view=pg.view,
                          oob=k > 0, **extra).strip()
        if k > 0 and name in ("controls", "data_panel", "output_panel"):
            # A whole panel out of band: mark its root element.
            html = html.replace("<section ", '<section hx-swap-oob="true" ', 1)
        parts.append(html)
    return HTMLResponse("".join(parts), headers=headers)


async def _update(request: Request, session_id: str, primary: str, edit) -> HTMLResponse:
    session = await request.app.state.store.get(session_id)
    form = await request.form()
    view = _view_of(form)
    errors = []

    def work():
        try:
            current = ui_table.values_from_session(session.to_dict())
            values = edit(current, form)
            apply_values(session, values)
        except (SettingError, EngineError, AppError) as e:
            errors.append(e)
        return session.to_dict()

    doc = await run_in_threadpool(work)
    pg = Playground(doc, view, errors=errors, errors_in=primary)
    names = [primary, "controls" if primary != "controls" else None, "pg_metrics"]
    headers = {"HX-Replace-Url": page_url(doc, view)}
    return _render(request, [n for n in names if n], pg, headers=headers)


def _edit_form(current: dict, form) -> dict:
    values = values_from_form(current, form)
    op = form.get("op")
    if op:
        _apply_op(values, op)
    if values["dataset"] != current["dataset"]:
        values["extra_points"] = ()
        if ui_table.task_of(values) != ui_table.task_of(current) or \
                ui_table.n_outputs_of(values) != ui_table.n_outputs_of(current):
            values["output_activation"] = values["loss"] = "auto"
    # A new output activation keeps the loss only if they go together.
    new_out = values["output_activation"] != current["output_activation"]
    if new_out and values["loss"] == current["loss"] != "auto" and \
            not ui_table.out_fits(values["loss"], values["output_activation"]):
        values["loss"] = "auto"
    return values


@router.post("/{session_id}/controls", response_class=HTMLResponse)
async def post_controls(request: Request, session_id: str) -> HTMLResponse:
    """The control panel's form (training bar, architecture, output, optimizer)."""
    return await _update(request, session_id, "controls", _edit_form)


@router.post("/{session_id}/data", response_class=HTMLResponse)
async def post_data(request: Request, session_id: str) -> HTMLResponse:
    """The data panel's form (dataset, data options, preprocessing, features)."""
    return await _update(request, session_id, "data_panel", _edit_form)


@router.post("/{session_id}/point", response_class=HTMLResponse)
async def post_point(request: Request, session_id: str) -> HTMLResponse:
    """Add one training point (`x1`, `x2`, `label`) clicked on the data plot."""

    def edit(current, form):
        values = dict(current)
        point = ui_table.coerce("extra_points", [[form.get("x1"), form.get("x2"),
                                                  form.get("label")]])
        values["extra_points"] = (*current["extra_points"], *point)
        return values

    return await _update(request, session_id, "data_panel", edit)


@router.post("/{session_id}/undo", response_class=HTMLResponse)
async def post_undo(request: Request, session_id: str) -> HTMLResponse:
    """Undo the last data change (an added point, a new dataset or CSV)."""

    def edit(current, form):
        session.undo_data()
        return ui_table.values_from_session(session.to_dict())

    session = await request.app.state.store.get(session_id)
    return await _update(request, session_id, "data_panel", edit)


async def _upload_bytes(form) -> bytes:
    """The bytes of the form's `file` field; SettingError ("file") when no file was chosen
    or the file is empty."""
    upload = form.get("file")
    if not hasattr(upload, "read") or not upload.filename:
        raise SettingError("file", "choose a file to upload")
    raw = await upload.read()
    if not raw.strip():
        raise SettingError("file", f"{upload.filename} is empty")
    return raw


@router.post("/{session_id}/csv", response_class=HTMLResponse)
async def post_csv(request: Request, session_id: str) -> HTMLResponse:
    """Upload a CSV (`x1,x2,label`); a bad file keeps the current data and says where."""
    session = await request.app.state.store.get(session_id)
    form = await request.form()
    view, error = _view_of(form), None

    def work(raw: bytes):
        spec = session.to_dict()["dataset"]
        base = {k: spec[k] for k in ("seed", "features", "preprocessing", "train_fraction")}
        text = raw.decode("utf-8-sig", errors="strict")
        parsed = parse_csv(text, base=base)
        current = ui_table.values_from_session(session.to_dict())
        values = dict(current, dataset="csv", extra_points=(),
                      points=tuple(tuple(p) for p in parsed["points"]), task=parsed["task"])
        values["n_classes"] = (max(int(p[2]) for p in parsed["points"]) + 1
                               if parsed["task"] == "classification" else 0)
        if ui_table.task_of(values) != ui_table.task_of(current) or \
                ui_table.n_outputs_of(values) != ui_table.n_outputs_of(current):
            values["output_activation"] = values["loss"] = "auto"
        apply_values(session, values)

    try:
        await run_in_threadpool(work, await _upload_bytes(form))
    except UnicodeDecodeError:
        error = "file: not UTF-8 text"
    except (SettingError, EngineError, AppError) as e:
        error = _error_text(e)
    doc = session.to_dict()
    pg = Playground(doc, view, csv_error=error)
    headers = {"HX-Replace-Url": page_url(doc, view)}
    return _render(request, ["data_panel", "controls", "pg_metrics"], pg, headers=headers)


@router.get("/{session_id}/share", response_class=HTMLResponse)
async def get_share(request: Request, session_id: str) -> HTMLResponse:
    """The share box with a link to this exact run (`weights=1`: with the current weights)."""
    session = await request.app.state.store.get(session_id)
    q = request.query_params
    view = _view_of(q)
    doc = session.to_dict()
    with_weights = q.get("weights") == "1"
    url = str(request.base_url).rstrip("/") + page_url(doc, view, weights=with_weights,
                                                       share=True)
    pg = Playground(doc, view)
    return _render(request, ["pg_share"], pg, share_url=url, share_weights=with_weights)


@router.post("/{session_id}/model", response_class=HTMLResponse)
async def post_model(request: Request, session_id: str) -> HTMLResponse:
    """Import a model document file; the share box answers, saying why if it was refused.
    (The panels follow the session's snapshot.)"""
    session = await request.app.state.store.get(session_id)
    form = await request.form()
    view, error = _view_of(form), None
    try:
        doc = jsonsafe.loads((await _upload_bytes(form)).decode("utf-8-sig"), "file")
        await run_in_threadpool(session.replace_model, doc)
    except UnicodeDecodeError as e:
        error = f"import refused: the file is not JSON ({e.__class__.__name__})"
    except (EngineError, AppError, SettingError) as e:
        error = f"import refused: {_error_text(e)}"
    pg = Playground(session.to_dict(), view)
    return _render(request, ["pg_share"], pg, share_error=error)


@router.get("/{session_id}/panels", response_class=HTMLResponse)
async def get_panels(request: Request, session_id: str) -> HTMLResponse:
    """The controls, with the data and output panels out of band: the panels redrawn
    from the session's state after a change made elsewhere (import, new seed, the worked
    example)."""
    session = await request.app.state.store.get(session_id)
    view = _view_of(request.query_params)
    doc = session.to_dict()
    return _render(request, ["controls", "data_panel", "output_panel"], Playground(doc, view),
                   headers={"HX-Replace-Url": page_url(doc, view)})


@router.post("/{session_id}/fork")
async def post_fork(request: Request, session_id: str) -> HTMLResponse:
    """"Copy of this session": a new session with this one's whole state (weights,
    optimizer state, data, history); the page goes to it (HX-Redirect)."""
    store = request.app.state.store
    session = await store.get(session_id)
    copy = await store.create(doc=session.to_dict())
    view = _view_of(await request.form())
    return HTMLResponse("", headers={"HX-Redirect": page_url(copy.to_dict(), view)})


@router.get("/{session_id}/url")
async def get_url(request: Request, session_id: str) -> JSONResponse:
    """`{"url": "/?..."}`: the page URL of the session's current configuration."""
    session = await request.app.state.store.get(session_id)
    view = _view_of(request.query_params)
    return JSONResponse({"url": page_url(session.to_dict(), view)})
