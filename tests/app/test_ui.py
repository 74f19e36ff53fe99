"""The playground's htmx endpoints (app/routes/ui.py) and partials, in process."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ui_table import BY_NAME, DATASET_NAMES


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


def open_page(client, query: str = "") -> tuple[str, str]:
    r = client.get(f"/?{query}")
    assert r.status_code == 200
    sid = re.search(r'data-session-id="([^"]+)"', r.text).group(1)
    return sid, r.text


def session(client, sid):
    return client.get(f"/api/sessions/{sid}").json()


def test_the_page_has_every_hook(client):
    _, html = open_page(client)
    for name in DATASET_NAMES:
        assert f'data-dataset="{name}"' in html
    for action in ("play", "pause", "step", "reset", "new-seed", "add-layer", "remove-layer",
                   "add-neuron", "remove-neuron", "regenerate", "share", "export-model",
                   "import-model", "export-svg", "export-png", "upload-csv", "download-csv"):
        assert f'data-action="{action}"' in html, action
    for metric in ("epoch", "train_loss", "test_loss", "accuracy", "precision", "recall", "f1"):
        assert f'data-metric="{metric}"' in html, metric
    assert 'data-metric="r2"' not in html  # a classification page shows classification figures
    for feature in ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"):
        assert f'data-feature="{feature}"' in html
    assert 'id="pg-boundary"' in html and 'id="pg-loss-chart"' in html


def test_a_regression_page_shows_mse_mae_r2(client):
    _, html = open_page(client, "data=plane")
    for metric in ("mse", "mae", "r2", "train_loss", "test_loss"):
        assert f'data-metric="{metric}"' in html
    assert 'data-metric="accuracy"' not in html


def test_the_page_builds_its_session_from_the_url(client):
    sid, html = open_page(client, "data=xor&h=3-3&act=relu&lr=0.1&seed=9&batch=20&speed=1")
    s = session(client, sid)
    assert (s["training"]["batch_size"], s["training"]["speed"]) == (20, "1")
    assert '<option value="1" selected>1 epoch/s</option>' in html
    assert s["dataset"]["name"] == "xor"
    assert s["model"]["layers"] == [2, 3, 3, 1]
    assert s["model"]["activation"] == "relu"
    assert s["model"]["optimizer"]["learning_rate"] == 0.1
    assert s["model"]["seed"] == 9


def test_classroom_mode_hides_chosen_controls(client):
    _, html = open_page(client, "hide=optimizer,features")
    assert 'name="optimizer"' not in html
    assert 'data-feature="x1"' not in html
    assert 'name="beta1"' not in html
    assert 'name="learning_rate"' in html  # the rest stays
    assert 'data-dataset="circle"' in html
    assert 'name="hide" value="features,optimizer"' in html  # carried by every form


def test_picking_a_dataset_replaces_it_and_answers_with_the_data_panel(client):
    sid, _ = open_page(client)
    r = client.post(f"/ui/{sid}/data", data={"dataset": "xor", "hide": ""})
    assert r.status_code == 200
    assert r.text.startswith('<section id="data-panel"')
    assert 'hx-swap-oob="true"' in r.text  # the controls and metrics follow out of band
    assert 'data-dataset="xor" class="pg-dataset is-current"' in r.text
    assert session(client, sid)["dataset"]["name"] == "xor"
    url = dict(parse_qsl(urlsplit(r.headers["HX-Replace-Url"]).query))
    assert url["data"] == "xor"


def test_changing_task_re_picks_output_and_loss(client):
    sid, _ = open_page(client)
    client.post(f"/ui/{sid}/data", data={"dataset": "spiral3"})
    m = session(client, sid)["model"]
    assert (m["layers"][-1], m["output_activation"], m["loss"]) == (3, "softmax",
                                                                     "cross_entropy")
    client.post(f"/ui/{sid}/data", data={"dataset": "plane"})
    m = session(client, sid)["model"]
    assert (m["layers"][-1], m["output_activation"], m["loss"]) == (1, "linear", "mse")
    client.post(f"/ui/{sid}/data", data={"dataset": "circle"})
    m = session(client, sid)["model"]
    assert (m["output_activation"], m["loss"]) == ("sigmoid", "binary_cross_entropy")


def test_features_toggle_the_input_layer(client):
    sid, _ = open_page(client)
    client.post(f"/ui/{sid}/data", data={"_has": "features",
                                         "features": ["x1", "x2", "x1^2", "sin(x2)"]})
    s = session(client, sid)
    assert s["dataset"]["features"] == ["x1", "x2", "x1^2", "sin(x2)"]
    assert s["model"]["layers"][0] == 4
    r = client.post(f"/ui/{sid}/data", data={"_has": "features"})  # none ticked
    assert "choose at least one feature" in r.text
    assert session(client, sid)["dataset"]["features"] == ["x1", "x2", "x1^2", "sin(x2)"]


def test_noise_points_ratio_and_regenerate(client):
    sid, _ = open_page(client)
    client.post(f"/ui/{sid}/data", data={"noise": "20", "n_points": "200",
                                         "train_fraction": "0.7"})
    d = session(client, sid)["dataset"]
    assert (d["noise"], d["n_points"], d["train_fraction"]) == (20, 200, 0.7)
    client.post(f"/ui/{sid}/data", data={"op": "regenerate"})
    assert session(client, sid)["dataset"]["seed"] != d["seed"]


def test_plus_minus_layers_and_neurons(client):
    sid, _ = open_page(client)
    client.post(f"/ui/{sid}/controls", data={"op": "add_layer"})
    assert session(client, sid)["model"]["layers"] == [2, 4, 2, 2, 1]
    client.post(f"/ui/{sid}/controls", data={"op": "add_neuron:0"})
    client.post(f"/ui/{sid}/controls", data={"op": "remove_neuron:1"})
    assert session(client, sid)["model"]["layers"] == [2, 5, 1, 2, 1]
    for _ in range(8):
        r = client.post(f"/ui/{sid}/controls", data={"op": "add_layer"})
    assert len(session(client, sid)["model"]["layers"]) == 8 + 2
    assert 'value="add_layer" data-action="add-layer" aria-label="Add a hidden layer" disabled' \
        in r.text
    for _ in range(12):
        client.post(f"/ui/{sid}/controls", data={"op": "add_neuron:0"})
    assert session(client, sid)["model"]["layers"][1] == 12
    for _ in range(10):
        client.post(f"/ui/{sid}/controls", data={"op": "remove_layer"})
    assert session(client, sid)["model"]["layers"] == [2, 1]


def test_per_layer_activation(client):
    sid, _ = open_page(client)
    client.post(f"/ui/{sid}/controls", data={"layer_act": ["relu", "tanh"],
                                              "activation": "tanh"})
    m = session(client, sid)["model"]
    assert m["layer_activations"] in (["relu", "tanh"], ["relu", None])
    client.post(f"/ui/{sid}/controls", data={"layer_act": ["relu", "tanh"],
                                              "activation": "elu"})
    m = session(client, sid)["model"]
    assert m["activation"] == "elu" and not any(m["layer_activations"] or [])


def test_learning_rate_is_live_and_keeps_the_weights(client):
    sid, _ = open_page(client)
    before = session(client, sid)["model"]
    client.post(f"/ui/{sid}/controls", data={"learning_rate": "0.3", "regularization": "l2",
                                              "regularization_rate": "0.001",
                                              "batch_size": "30"})
    s = session(client, sid)
    assert s["model"]["optimizer"]["learning_rate"] == 0.3
    assert s["model"]["regularization"] == {"name": "l2", "rate": 0.001}
    assert s["training"]["batch_size"] == 30
    assert s["model"]["weights"] == before["weights"]


def test_a_typed_learning_rate_within_the_tables_bounds_is_kept_and_listed(client):
    sid, page = open_page(client)
    # The typed box beside the presets carries the table's bounds (app/ui_table.py).
    box = re.search(r'<input type="number" class="pg-typed" data-typed-for="learning_rate"[^>]*>',
                    page).group(0)
    assert 'min="1e-06"' in box and 'max="10.0"' in box and 'step="any"' in box
    r = client.post(f"/ui/{sid}/controls", data={"learning_rate": "0.0042"})
    assert session(client, sid)["model"]["optimizer"]["learning_rate"] == 0.0042
    # The list keeps it, chosen, among the presets.
    assert re.search(r'<option value="0.0042" selected>0.0042</option>', r.text)
    for bad, why in (("20", "20 is outside 1e-06..10"), ("abc", "expected a number")):
        r = client.post(f"/ui/{sid}/controls", data={"learning_rate": bad})
        assert why in html.unescape(r.text), bad
        assert session(client, sid)["model"]["optimizer"]["learning_rate"] == 0.0042


def test_invalid_output_and_loss_pair_is_refused_and_explained(client):
    sid, _ = open_page(client)
    before = session(client, sid)["model"]
    r = client.post(f"/ui/{sid}/controls", data={"output_activation": "softmax",
                                                  "loss": "auto"})
    assert "softmax needs at least 2 outputs" in r.text
    assert session(client, sid)["model"] == before
    # The form offers it greyed out, with the reason.
    assert re.search(r'<option value="softmax" disabled title="softmax needs at least 2 outputs',
                     r.text)
    r = client.post(f"/ui/{sid}/controls", data={"output_activation": "tanh", "loss": "hinge"})
    m = session(client, sid)["model"]
    assert (m["output_activation"], m["loss"]) == ("tanh", "hinge")


def test_optimizer_and_its_hyperparameters(client):
    sid, _ = open_page(client)
    r = client.post(f"/ui/{sid}/controls", data={"optimizer": "momentum"})
    assert 'name="momentum"' in r.text and 'name="beta1"' not in r.text
    client.post(f"/ui/{sid}/controls", data={"optimizer": "momentum", "momentum": "0.5"})
    opt = session(client, sid)["model"]["optimizer"]
    assert (opt["name"], opt["momentum"]) == ("momentum", 0.5)
    assert opt["learning_rate"] == BY_NAME["learning_rate"].default


def test_good_csv_replaces_the_data(client):
    sid, _ = open_page(client)
    text = "x1,x2,label\n" + "\n".join(f"{i},{-i},{i % 2}" for i in range(12))
    r = client.post(f"/ui/{sid}/csv", files={"file": ("mine.csv", text, "text/csv")})
    assert r.status_code == 200 and 'data-error="csv"' not in r.text
    d = session(client, sid)["dataset"]
    assert d["name"] == "csv" and len(d["points"]) == 12
    assert "Your CSV: 12 points" in r.text


def test_bad_csv_names_line_and_column_and_keeps_the_data(client):
    sid, _ = open_page(client, "data=moons")
    before = session(client, sid)["dataset"]
    text = "x1,x2,label\n1,2,0\n3,abc,1\n"
    r = client.post(f"/ui/{sid}/csv", files={"file": ("bad.csv", text, "text/csv")})
    assert "line 3, column 2 (x2): 'abc' is not a number" in html.unescape(r.text)
    assert session(client, sid)["dataset"] == before


def test_clicked_point_is_added_to_the_training_data(client):
    sid, _ = open_page(client)
    n = len(client.get(f"/api/sessions/{sid}/dataset").json()["train"]["points"])
    client.post(f"/ui/{sid}/point", data={"x1": "1.5", "x2": "-2.25", "label": "1"})
    data = client.get(f"/api/sessions/{sid}/dataset").json()
    assert data["spec"]["extra_points"] == [[1.5, -2.25, 1]]
    assert data["train"]["points"][-1] == [1.5, -2.25]
    assert len(data["train"]["points"]) == n + 1
    r = client.post(f"/ui/{sid}/data", data={"op": "clear_points"})
    assert r.status_code == 200
    assert session(client, sid)["dataset"]["extra_points"] == []


def test_share_link_reproduces_the_run(client):
    sid, _ = open_page(client, "data=gauss&h=5&seed=123&lr=0.01")
    r = client.get(f"/ui/{sid}/share", params={"hide": "features"})
    url = re.search(r'data-share-url[^>]*|value="([^"]+)"[^>]*data-share-url', r.text)
    link = re.search(r'value="(http[^"]+)"', r.text).group(1).replace("&amp;", "&")
    assert url and "hide=features" in link
    sid2, _ = open_page(client, urlsplit(link).query)
    a, b = session(client, sid), session(client, sid2)
    assert a["model"] == b["model"] and a["dataset"] == b["dataset"]


def test_share_link_with_weights_restores_them(client):
    sid, _ = open_page(client)
    for _ in range(3):
        client.post(f"/api/sessions/{sid}/step", json={"unit": "batch"})
    r = client.get(f"/ui/{sid}/share", params={"weights": "1"})
    link = re.search(r'value="(http[^"]+)"', r.text).group(1).replace("&amp;", "&")
    sid2, _ = open_page(client, urlsplit(link).query)
    a, b = session(client, sid)["model"], session(client, sid2)["model"]
    assert a["weights"] == b["weights"] and a["biases"] == b["biases"]


def test_url_endpoint_and_panels(client):
    sid, _ = open_page(client, "data=spiral")
    # The page's address names its session; the share link does not.
    assert client.get(f"/ui/{sid}/url").json()["url"].startswith(f"/s/{sid}?data=spiral")
    r = client.get(f"/ui/{sid}/panels")
    assert r.text.startswith('<section id="controls"')
    assert '<section hx-swap-oob="true" id="data-panel"' in r.text
    assert '<section hx-swap-oob="true" id="output-panel"' in r.text
    assert 'id="pg-metrics"' in r.text  # inside the output panel


def test_unknown_session_is_404(client):
    assert client.post("/ui/nope/controls", data={}).status_code == 404


def test_dataset_thumbnails_draw_every_point_in_a_few_paths():
    from app.routes.ui import THUMB_POINTS, thumbnail
    from app.ui_table import DATASET_NAMES

    for name in DATASET_NAMES:
        svg = str(thumbnail(name))
        assert svg.startswith("<svg") and "<circle" not in svg
        assert 1 <= svg.count("<path") <= 10, name  # a colour (and, regression, a shade) each
        assert svg.count("M") == THUMB_POINTS, name  # one dot per point


def form_of(page_html: str, form_id: str, **changes: str) -> dict[str, list[str]]:
    """Every field a browser would post from the form inside `#form_id` as the page shows
    it (selected options, checked boxes, values), without its buttons; `changes` replace
    fields by name."""
    start = page_html.index(f'id="{form_id}"')
    form = page_html[start:page_html.index("</form>", start)]
    fields = []
    for tag in re.finditer(r"<select\b([^>]*)>(.*?)</select>|<(input)\b([^>]*)>", form, re.S):
        kind = "input" if tag.group(3) else "select"
        attrs, body = tag.group(4) or tag.group(1), tag.group(2) or ""
        name = re.search(r'name="([^"]+)"', attrs)
        if not name:
            continue
        if kind == "select":
            chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
            fields.append((name.group(1), html.unescape(chosen.group(1)) if chosen else ""))
        elif 'type="checkbox"' in attrs:
            if " checked" in attrs:
                fields.append((name.group(1), re.search(r'value="([^"]*)"', attrs).group(1)))
        else:
            value = re.search(r'value="([^"]*)"', attrs)
            fields.append((name.group(1), html.unescape(value.group(1)) if value else ""))
    out: dict[str, list[str]] = {}
    for k, v in fields:
        out.setdefault(k, []).append(v)
    return out | {k: [v] for k, v in changes.items()}


def trained(client, sid, steps=5):
    for _ in range(steps):
        client.post(f"/api/sessions/{sid}/step", json={"unit": "batch"}).raise_for_status()
    return session(client, sid)


@pytest.mark.parametrize(("name", "value"), [
    ("learning_rate", "0.3"), ("batch_size", "25"), ("regularization", "l2"),
    ("regularization_rate", "0.01"),
])
def test_a_live_setting_posted_with_the_whole_form_keeps_the_training(client, name, value):
    # The page posts every field of the controls form (one layer_act per hidden layer, the
    # optimizer's hyperparameters, ...): only the changed live setting may change.
    sid, page = open_page(client)
    before = trained(client, sid)
    r = client.post(f"/ui/{sid}/controls", data=form_of(page, "controls", **{name: value}))
    assert r.status_code == 200 and 'role="alert"' not in r.text, r.text
    after = session(client, sid)
    for key in ("weights", "biases", "optimizer_state", "layers", "init", "seed"):
        assert after["model"][key] == before["model"][key], key
    assert after["training"]["epoch"] == before["training"]["epoch"]
    assert after["training"]["step"] == before["training"]["step"] == 5
    assert after["history"] == before["history"]
    got = {"learning_rate": after["model"]["optimizer"]["learning_rate"],
           "batch_size": after["training"]["batch_size"],
           "regularization": after["model"]["regularization"]["name"],
           "regularization_rate": after["model"]["regularization"]["rate"]}[name]
    assert str(got) == value


def test_a_bad_number_is_refused_by_the_server_beside_its_control(client):
    sid, page = open_page(client)
    before = session(client, sid)["model"]
    r = client.post(f"/ui/{sid}/controls", data=form_of(page, "controls", eps="-1"))
    # said inside the eps field's label, and the drop-down that holds it opens to show it
    assert re.search(r'data-setting="eps"[^>]*>(?:(?!</label>).)*pg-field-error" role="alert">'
                     r"eps: -1 is outside 1e-12..1<", r.text, re.S)
    assert '<details class="pg-more" data-keep="more" open>' in r.text
    assert session(client, sid)["model"] == before


def test_a_second_csv_replaces_the_first(client):
    sid, _ = open_page(client)
    three = "x1,x2,label\n" + "\n".join(f"{i},{-i},{i % 3}" for i in range(150))
    client.post(f"/ui/{sid}/csv", files={"file": ("three.csv", three, "text/csv")})
    m = session(client, sid)["model"]
    assert (m["layers"][-1], m["output_activation"], m["loss"]) == (3, "softmax",
                                                                    "cross_entropy")
    two = "x1,x2,label\n" + "\n".join(f"{i},{i},{i % 2}" for i in range(40))
    r = client.post(f"/ui/{sid}/csv", files={"file": ("two.csv", two, "text/csv")})
    assert "Your CSV: 40 points (2 classes)" in r.text
    s = session(client, sid)
    assert len(s["dataset"]["points"]) == 40
    assert (s["model"]["layers"][-1], s["model"]["output_activation"], s["model"]["loss"]) == (
        1, "sigmoid", "binary_cross_entropy")


def test_an_empty_csv_says_it_is_empty(client):
    sid, _ = open_page(client)
    before = session(client, sid)["dataset"]
    r = client.post(f"/ui/{sid}/csv", files={"file": ("blank.csv", "\n", "text/csv")})
    assert "file: blank.csv is empty" in r.text
    r = client.post(f"/ui/{sid}/csv", data={"hide": ""})
    assert "file: choose a file to upload" in r.text
    assert session(client, sid)["dataset"] == before


def test_an_added_point_keeps_the_model_and_can_be_undone(client):
    sid, _ = open_page(client, "data=xor")
    before = trained(client, sid)
    client.post(f"/ui/{sid}/point", data={"x1": "1.5", "x2": "-2.25", "label": "1"})
    s = session(client, sid)
    assert s["dataset"]["extra_points"] == [[1.5, -2.25, 1]]
    for key in ("weights", "biases", "optimizer_state"):
        assert s["model"][key] == before["model"][key]
    assert s["training"]["step"] == before["training"]["step"]
    assert s["undo"]["label"] == "added 1 point"
    r = client.post(f"/ui/{sid}/undo", data={"hide": ""})
    assert "Undo:" not in r.text
    s = session(client, sid)
    assert s["dataset"]["extra_points"] == [] and s["undo"] is None
    assert s["model"]["weights"] == before["model"]["weights"]


def test_undo_of_a_new_dataset_brings_back_the_trained_network(client):
    sid, page = open_page(client)
    before = trained(client, sid)
    r = client.post(f"/ui/{sid}/data", data={"dataset": "xor"})
    assert "Undo: new data" in r.text
    assert session(client, sid)["training"]["step"] == 0
    client.post(f"/ui/{sid}/undo", data={"hide": ""})
    s = session(client, sid)
    assert s["dataset"] == before["dataset"]
    for key in ("weights", "biases", "optimizer_state"):
        assert s["model"][key] == before["model"][key]
    assert s["training"]["step"] == 5
    assert s["history"]["epoch"] == before["history"]["epoch"]


def test_a_link_s_bad_values_are_shown(client):
    _, page = open_page(client, "lr=abc&hide=everything&colour=red")
    text = html.unescape(page)
    assert "Part of this link could not be used" in text
    for problem in ("learning_rate: expected a number, got 'abc'",
                    "hide: unknown value 'everything'", "colour: not a setting"):
        assert problem in text, problem
    _, page = open_page(client)
    assert "Part of this link could not be used" not in page


def test_every_entry_point_starts_from_the_same_model(client):
    # The page, the JSON API (no body) and the API with only a dataset: one default model.
    page_sid, _ = open_page(client)
    api_doc = client.post("/api/sessions").json()
    page_doc = session(client, page_sid)
    for key in ("layers", "activation", "output_activation", "loss", "optimizer", "init",
                "seed", "regularization", "weights"):
        assert api_doc["model"][key] == page_doc["model"][key], key
    assert api_doc["dataset"] == page_doc["dataset"]
    assert api_doc["training"]["batch_size"] == page_doc["training"]["batch_size"]
