"""Classroom exercises (app/exercise.py): a teacher's link makes each new session an
exercise, and the session refuses every change to a part the exercise hides or locks, by
every road (the page's forms, the socket, the JSON API), leaving the session as it was."""

import json
import re

import httpx
import pytest
from websockets.sync.client import connect

from app import exercise as exercises
from app.errors import BadInput
from app.exercise import Locked
from app.sessions import Session, SessionStore
from tests.conftest import running_server

# ---- the session's own rule -----------------------------------------------------------


def session_with(hidden=(), locked=()) -> Session:
    s = SessionStore().create()
    s.set_exercise({"note": "try", "hidden": list(hidden), "locked": list(locked)})
    return s


def essentials(s: Session) -> dict:
    doc = s.to_dict()
    return {k: doc[k] for k in ("model", "dataset", "training", "history", "initial_model")}


CSV = "x1,x2,label\n" + "".join(f"{k},{k},{k % 2}\n" for k in range(8))
REFUSALS = [
    # (the part locked, the change, the field the refusal names)
    ("optimizer", lambda s: s.configure({"optimizer": {"name": "sgd", "learning_rate": 0.1}}),
     "optimizer"),
    ("architecture", lambda s: s.configure({"hidden": [3]}), "hidden"),
    ("architecture", lambda s: s.configure({"activation": "relu"}), "activation"),
    ("architecture", lambda s: s.reset(new_seed=True), "seed"),
    ("output", lambda s: s.configure({"loss": "mse"}), "loss"),
    ("training", lambda s: s.set_training(learning_rate=0.1), "learning_rate"),
    ("training", lambda s: s.set_training(batch_size=5), "batch_size"),
    ("regularization", lambda s: s.set_training(regularization="l2"), "regularization"),
    ("weights", lambda s: s.set_weight(0, 0, 0, 2.5), "value"),
    ("weights", lambda s: s.set_bias(0, 0, 2.5), "value"),
    ("data", lambda s: s.replace_dataset({**s.problem.spec, "name": "xor"}), "name"),
    ("data", lambda s: s.edit_points([[1.0, 1.0, 0]]), "extra_points"),
    ("features", lambda s: s.replace_dataset({**s.problem.spec,
                                              "features": ["x1", "x2", "x1^2"]}), "features"),
    ("upload", lambda s: s.replace_dataset_csv(CSV), "file"),
    ("upload", lambda s: s.replace_model(s.to_dict()["model"]), "model"),
    ("example", lambda s: __import__("app.presets", fromlist=["x"]).load_worked_example(s),
     "model"),
    ("step", lambda s: s.step("sample"), "unit"),
    ("step", lambda s: s.step("batch"), "unit"),
]


@pytest.mark.parametrize("how", ["locked", "hidden"])
@pytest.mark.parametrize("part,change,field", REFUSALS,
                         ids=[f"{p}-{f}-{k}" for k, (p, _, f) in enumerate(REFUSALS)])
def test_a_locked_or_hidden_part_refuses_its_change_and_nothing_moves(part, change, field, how):
    s = session_with(**{how: [part]})
    before = essentials(s)
    with pytest.raises(Locked) as refused:
        change(s)
    assert refused.value.field == field
    assert refused.value.status == 403
    assert "locked in this exercise" in refused.value.message
    assert essentials(s) == before


@pytest.mark.parametrize("part,change,field", REFUSALS,
                         ids=[f"{p}-{f}-{k}" for k, (p, _, f) in enumerate(REFUSALS)])
def test_the_other_parts_stay_open(part, change, field):
    # Everything but this part locked: its own change goes through.
    others = [p for p in exercises.ui_table.PARTS if p != part]
    s = session_with(locked=others)
    change(s)


def test_training_and_the_epoch_step_stay_open_in_any_exercise():
    s = session_with(locked=list(exercises.ui_table.PARTS))
    s.step("epoch")
    s.play()
    s.pause()
    s.reset()
    assert s.training["epoch"] == 0


def test_the_exercise_is_part_of_the_session_document():
    s = session_with(hidden=["step"], locked=["optimizer"])
    doc = json.loads(json.dumps(s.to_dict()))
    assert doc["exercise"] == {"note": "try", "hidden": ["step"], "locked": ["optimizer"]}
    again = Session.from_dict(doc)
    with pytest.raises(Locked):
        again.configure({"optimizer": {"name": "sgd", "learning_rate": 0.1}})


@pytest.mark.parametrize("doc,field", [
    ({"hidden": ["nope"]}, "exercise.hidden"),
    ({"locked": "optimizer"}, "exercise.locked"),
    ({"note": "x" * 501}, "exercise.note"),
    ("all", "exercise"),
])
def test_a_bad_exercise_document_is_refused_naming_its_field(doc, field):
    with pytest.raises(BadInput) as refused:
        exercises.checked(doc)
    assert refused.value.field == field


def test_a_dataset_that_is_not_a_spec_is_refused_by_its_own_check_in_an_exercise():
    # (schemathesis found it: the exercise's comparison ran before the spec was read)
    s = session_with(locked=["optimizer"])
    with pytest.raises(BadInput) as refused:
        s.replace_dataset(7)
    assert not isinstance(refused.value, Locked)


def test_a_link_without_hide_lock_or_note_is_no_exercise():
    assert exercises.from_view({"hide": set(), "lock": (), "note": ""}) is None
    # a hidden part is not listed as locked too
    assert exercises.from_view({"hide": {"data"}, "lock": ("data", "optimizer"), "note": ""}) \
        == {"note": "", "hidden": ["data"], "locked": ["optimizer"]}


# ---- every road into a real server ----------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with running_server() as url:
        yield url


@pytest.fixture(scope="module")
def api(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


def open_exercise(api, query: str) -> str:
    page = api.get(f"/?{query}")
    assert page.status_code == 200
    return re.search(r'data-session-id="([^"]+)"', page.text).group(1)


def test_a_teachers_link_makes_an_exercise_every_road_respects(api, server):
    sid = open_exercise(api, "lock=optimizer,weights&hide=step&note=Tune+the+learning+rate")
    doc = api.get(f"/api/sessions/{sid}").json()
    assert doc["exercise"] == {"note": "Tune the learning rate", "hidden": ["step"],
                               "locked": ["optimizer", "weights"]}
    before = doc["model"]

    # The page's form (what a person's browser would post for the greyed-out select).
    r = api.post(f"/ui/{sid}/controls", data={"optimizer": "sgd"})
    assert r.status_code == 200
    assert "locked in this exercise" in r.text
    # The JSON API.
    r = api.patch(f"/api/sessions/{sid}/weights", json={"layer": 0, "from": 0, "to": 0,
                                                         "value": 3.0})
    assert r.status_code == 403 and r.json()["detail"]["field"] == "value", r.text
    r = api.post(f"/api/sessions/{sid}/step", json={"unit": "sample"})
    assert r.status_code == 403 and r.json()["detail"]["field"] == "unit", r.text

    # The socket: an error naming the field, and the socket stays open.
    url = server.replace("http", "ws", 1) + f"/api/sessions/{sid}/stream"
    with connect(url, max_size=None) as ws:
        ws.send(json.dumps({"type": "set_weight", "id": 1, "layer": 0, "from": 0,
                            "to": 0, "value": 3.0}))
        while (m := json.loads(ws.recv(timeout=10)))["type"] != "error":
            pass
        assert m["field"] == "value" and "locked in this exercise" in m["message"]
        ws.send(json.dumps({"type": "ping", "id": 2}))
        while json.loads(ws.recv(timeout=10))["type"] != "pong":
            pass
    assert api.get(f"/api/sessions/{sid}").json()["model"] == before

    # What stays open works: the learning rate (not locked here).
    r = api.post(f"/ui/{sid}/controls", data={"learning_rate": "0.1"})
    assert r.status_code == 200
    lr = api.get(f"/api/sessions/{sid}").json()["model"]["optimizer"]["learning_rate"]
    assert lr == 0.1


def test_a_bad_exercise_link_says_what_it_could_not_apply(api):
    page = api.get("/?lock=optimizer,nonsense&note=hi")
    assert page.status_code == 200
    assert "could not be used" in page.text
    assert "nonsense" in page.text


def test_an_exercise_page_whose_session_is_gone_starts_the_same_exercise(api):
    first = api.get("/?lock=optimizer&note=Keep+going").text
    sid = re.search(r'data-session-id="([^"]+)"', first).group(1)
    address = re.search(r'data-page-url="([^"]+)"', first).group(1)  # the address bar's
    assert api.delete(f"/api/sessions/{sid}").status_code == 204
    page = api.get(address.replace("&amp;", "&"))  # a reload after the session was lost
    assert "no longer exists" in page.text
    fresh = re.search(r'data-session-id="([^"]+)"', page.text).group(1)
    assert fresh != sid
    assert api.get(f"/api/sessions/{fresh}").json()["exercise"] == {
        "note": "Keep going", "hidden": [], "locked": ["optimizer"]}


def test_the_speed_stays_open_when_the_training_settings_are_locked(api):
    page = api.get("/?lock=training").text
    sid = re.search(r'data-session-id="([^"]+)"', page).group(1)
    assert re.search(r'<select name="learning_rate"[^>]*disabled', page)
    assert not re.search(r'<select name="speed"[^>]*disabled', page)
    # (its label carries no part, so the page's script does not grey it out either)
    assert re.search(r'data-setting="speed" title="[^"]*" data-group=""', page)
    r = api.post(f"/ui/{sid}/controls", data={"speed": "max"})
    assert r.status_code == 200 and "locked" not in r.text
    assert api.get(f"/api/sessions/{sid}").json()["training"]["speed"] == "max"
    r = api.post(f"/ui/{sid}/controls", data={"learning_rate": "0.1"})
    assert "locked in this exercise" in r.text
