"""The update phase (e) of the step animation shows each optimizer's rule with the
step's numbers put in (static/js/equations.js `updateEquation`).

From the default page, as a person would: pick the plane data (a regression: linear
output, mse), pick the optimizer and set its hyperparameters in the settings, press "Step
one epoch" (so the optimizer has state), then "Step one sample", jump to the update phase
and click a weight (and a bias). Every number printed in the selected parameter's
equations is compared, in order and within its printed precision, with a reference
computed here in plain Python floats: the sample's gradient by the chain rule from the
server's weights before the step, then torch.optim's rules (tests/hand_optimizers.py) from
the server's value and optimizer state before the step; the server's state after the step
must be that reference too.
"""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import expect

from tests import hand_optimizers as hand
from tests.browser.conftest import (
    click_edge,
    close_more_settings,
    epoch_shown,
    load,
    more_settings,
    settle,
    shot,
    shown_as,
    wait_until,
)

CASES = {
    "sgd": {"learning_rate": 0.1, "weight_decay": 0.05},
    "momentum": {"learning_rate": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.05},
    "nesterov": {"learning_rate": 0.1, "momentum": 0.8, "weight_decay": 0.05},
    "rmsprop": {"learning_rate": 0.01, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.05},
    "adam": {"learning_rate": 0.03, "betas": [0.8, 0.99], "eps": 1e-8, "weight_decay": 0.05},
    "adamw": {"learning_rate": 0.03, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1},
    # without weight decay the trace's gradient itself is printed inside each line
    "momentum-nodecay": {"learning_rate": 0.1, "momentum": 0.9, "dampening": 0.0,
                         "weight_decay": 0.0},
    "nesterov-nodecay": {"learning_rate": 0.1, "momentum": 0.8, "weight_decay": 0.0},
    "rmsprop-nodecay": {"learning_rate": 0.01, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.0},
    "adam-nodecay": {"learning_rate": 0.03, "betas": [0.8, 0.99], "eps": 1e-8,
                     "weight_decay": 0.0},
}
BUFFERS = {"sgd": [], "momentum": ["momentum_buffer"], "nesterov": ["momentum_buffer"],
           "rmsprop": ["square_avg"], "adam": ["exp_avg", "exp_avg_sq"],
           "adamw": ["exp_avg", "exp_avg_sq"]}

# A printed number: fmt() writes toFixed(4) with trailing zeros dropped, or
# toExponential(2) below 1e-4. Not preceded by a letter (β1, x1) or a dot.
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def printed_numbers(text: str) -> list[str]:
    """The numbers after a line's first ' = ' (the rule's symbols, then its numbers)."""
    assert " = " in text, text
    return NUMBER.findall(text.split(" = ", 1)[1])


def assert_printed(text: str, expected: list[float]):
    got = printed_numbers(text)
    assert len(got) == len(expected), f"{text!r}: printed {got}, expected {expected}"
    for token, want in zip(got, expected, strict=True):
        assert shown_as(token, want), f"{text!r}: {token} is not {want!r}"


def expected_lines(name, hp, p, g, used, decayed, before, after, new, t):
    """[(label, printed numbers in order)] of updateEquation for this optimizer, with
    `used` the gradient the rule used and `decayed` adamw's decayed value (the trace's).

    The numbers are those after a line's first ' = ', so the symbolic rule's own
    constants (the 1 of "(1 − β1)", a dampening) come first."""
    lr, wd = hp["learning_rate"], hp["weight_decay"]
    gs = [used]  # with decay, g = dL/dw + λw; without, dL/dw itself
    lines = [("weight decay", [g, wd, p, used])] if wd and name != "adamw" else []
    if name == "sgd":
        lines += [("sgd", [p, lr, used, new])]
    elif name == "momentum":
        damp = [1, hp["dampening"]] if hp["dampening"] else []
        b0, b1 = before["momentum_buffer"], after["momentum_buffer"]
        # the symbol itself prints the dampening: v' = μ·v + (1 − d)·g
        lines += [("velocity", [*damp, hp["momentum"], b0, *damp, *gs, b1]),
                  ("momentum", [p, lr, b1, new])]
    elif name == "nesterov":
        mu, b0, b1 = hp["momentum"], before["momentum_buffer"], after["momentum_buffer"]
        lines += [("velocity", [mu, b0, *gs, b1]),
                  ("nesterov", [p, lr, *gs, mu, b1, new])]
    elif name == "rmsprop":
        a, s0, s1 = hp["alpha"], before["square_avg"], after["square_avg"]
        lines += [("square avg", [1, a, s0, 1, a, *gs, s1]),
                  ("rmsprop", [p, lr, *gs, s1, hp["eps"], new])]
    else:
        b1, b2 = hp["betas"]
        m0, m1 = before["exp_avg"], after["exp_avg"]
        v0, v1 = before["exp_avg_sq"], after["exp_avg_sq"]
        if name == "adamw":
            lines.append(("decoupled decay", [p, 1, lr, wd, decayed]))
            start = decayed  # adamw's last line starts from the decayed w
        else:
            start = p
        lines += [("1st moment", [1, b1, m0, 1, b1, *gs, m1]),
                  ("2nd moment", [1, b2, v0, 1, b2, *gs, v1]),
                  (name, [1, 1, start, lr, m1, 1, b1, t, v1, 1, b2, t, hp["eps"], new])]
    return lines


# ---- references computed here --------------------------------------------------------


def at(tree: dict, kind: str, index: tuple) -> float:
    """weights[l][i][j] or biases[l][j] of a {weights, biases} tree."""
    if kind == "weight":
        l, i, j = index
        return tree["weights"][l][i][j]
    l, j = index
    return tree["biases"][l][j]


def selected_sample(api, sid: str, doc: dict) -> tuple[list[float], list[float]]:
    """The selected sample's inputs and target, as the loss sees them: the point's x1, x2
    (the default features, no preprocessing); the label itself for a regression, 0/1 for
    sigmoid with binary cross-entropy."""
    session = api.get(f"/api/sessions/{sid}").json()
    spec = session["dataset"]
    assert spec["features"] == ["x1", "x2"] and spec["preprocessing"] == "none", spec
    smp = session["training"]["sample"]
    split = api.get(f"/api/sessions/{sid}/dataset").json()[smp["split"]]
    assert (doc["output_activation"], doc["loss"]) in (("linear", "mse"),
                                                       ("sigmoid", "binary_cross_entropy"))
    return list(split["points"][smp["index"]]), [float(split["labels"][smp["index"]])]


def hand_gradients(doc: dict, x: list[float], t: list[float]) -> dict:
    """dL/dW and dL/db of one sample by the chain rule in plain floats, for tanh hidden
    layers and either a linear output with mse (delta = 2 (y - t) / outputs) or a sigmoid
    output with binary cross-entropy (delta = y - t); no regularization."""
    assert doc["activation"] == "tanh" and not doc["layer_activations"]
    assert doc["regularization"]["name"] == "none" or doc["regularization"]["rate"] == 0
    W, B = doc["weights"], doc["biases"]
    a = [list(x)]
    for l in range(len(W)):
        z = [sum(a[l][i] * W[l][i][j] for i in range(len(a[l]))) + B[l][j]
             for j in range(len(B[l]))]
        if l < len(W) - 1:
            a.append([math.tanh(v) for v in z])
        elif doc["output_activation"] == "sigmoid":
            a.append([1.0 / (1.0 + math.exp(-v)) for v in z])
        else:
            a.append(z)
    y = a[-1]
    scale = 2.0 / len(y) if doc["loss"] == "mse" else 1.0
    delta = [scale * (y[j] - t[j]) for j in range(len(y))]
    grads = {"weights": [None] * len(W), "biases": [None] * len(W)}
    for l in reversed(range(len(W))):
        grads["weights"][l] = [[a[l][i] * d for d in delta] for i in range(len(a[l]))]
        grads["biases"][l] = list(delta)
        delta = [sum(W[l][i][j] * delta[j] for j in range(len(delta))) * (1 - a[l][i] ** 2)
                 for i in range(len(a[l]))]
    return grads


# ---- the page ------------------------------------------------------------------------

FIELDS = {"momentum": "Momentum", "dampening": "Dampening", "alpha": "Smoothing (alpha)",
          "eps": "epsilon", "weight_decay": "Weight decay"}


def optimizer_of(api, sid: str) -> dict:
    return api.get(f"/api/sessions/{sid}").json()["model"]["optimizer"]


def set_up(page, server, api, name: str, hp: dict) -> str:
    """The plane data and the optimizer `name` with `hp`, set with the page's controls one
    after the other, each once the server holds the one before; one epoch trained so the
    optimizer has state. Returns the session id."""
    sid = load(page, server)
    settle(page)
    page.get_by_role("button", name="plane", exact=True).click()
    wait_until(lambda: api.get(f"/api/sessions/{sid}").json()["model"]["loss"] == "mse",
               "the plane data (a regression: linear output, mse)")
    settle(page)
    page.get_by_role("combobox", name="Optimizer", exact=True).select_option(name)
    wait_until(lambda: optimizer_of(api, sid)["name"] == name, f"the optimizer is {name}")
    settle(page)
    lr = hp["learning_rate"]
    page.get_by_role("combobox", name="Learning rate", exact=True).select_option(str(lr))
    wait_until(lambda: optimizer_of(api, sid)["learning_rate"] == lr, f"learning rate {lr}")
    settle(page)
    fields = [(FIELDS[k], v, lambda o, k=k: o[k]) for k, v in hp.items() if k in FIELDS]
    if "betas" in hp:
        fields += [("beta1", hp["betas"][0], lambda o: o["betas"][0]),
                   ("beta2", hp["betas"][1], lambda o: o["betas"][1])]
    for label, value, held in fields:
        more_settings(page)
        field = page.get_by_role("spinbutton", name=label, exact=True)
        if float(field.input_value()) != value:
            field.fill(repr(value))
            field.press("Enter")
        wait_until(lambda held=held, value=value: held(optimizer_of(api, sid)) == value,
                   f"the server holds {label} = {value}")
        settle(page)
    opt = optimizer_of(api, sid)
    assert opt["name"] == name and all(opt[k] == v for k, v in hp.items()), opt
    close_more_settings(page)
    page.get_by_role("button", name="Step one epoch").click()
    expect(epoch_shown(page)).to_have_text("1")
    return sid


def step_to_update(page) -> None:
    """Step one sample in the page, pause, jump to (e) update."""
    page.get_by_role("button", name="Step one sample").click()
    update = page.get_by_role("button", name="e · update", exact=True)
    expect(update).to_be_enabled()
    pause = page.get_by_role("button", name="pause (space)")
    if pause.is_visible():
        pause.click()
    update.click()
    expect(update).to_have_attribute("aria-current", "step")


NAMES = {("weight", (1, 1, 0)): ("hidden 1 neuron 2", "hidden 2 neuron 1"),
         ("weight", (0, 0, 1)): ("x1", "hidden 1 neuron 2"),
         ("bias", (1, 0)): ("hidden 2 neuron 1",)}


def shown_equations(page, kind: str, index: tuple, t: int) -> tuple[str, list[tuple[str, str]]]:
    """Click a weight's edge or a bias's marker; the title and (label, text) lines of its
    update equation. A weight shows its own equation alone; a bias shows the weights into
    its neuron and then its own, titled "bias of ..."."""
    names = NAMES[(kind, index)]
    if kind == "weight":
        click_edge(page, f"weight from {names[0]} to {names[1]}")
        title = f"update (step {t}): {names[0]} → {names[1]}"
    else:
        page.locator("#network-view circle[data-pick='bias']").filter(
            has_text=re.compile(f"^bias of {names[0]}$")).click()
        title = f"update (step {t}): bias of {names[0]}"
    groups = page.locator('[data-role="equations"] .eq-group')
    mine = groups.filter(has=page.get_by_text(title, exact=True))
    expect(mine).to_have_count(1)
    if kind == "weight":
        expect(groups).to_have_count(1)
    lines = mine.locator(".eq-line")
    return title, list(zip(lines.locator(".eq-label").all_inner_texts(),
                           lines.locator("code").all_inner_texts(), strict=True))


PARAMS = [("weight", (1, 1, 0)), ("weight", (0, 0, 1)), ("bias", (1, 0))]


@pytest.mark.parametrize("case", list(CASES))
def test_update_equation_shows_the_optimizers_rule_with_the_steps_numbers(
        page, server, api, case):
    name = case.split("-")[0]
    hp = CASES[case]
    sid = set_up(page, server, api, name, hp)
    before = api.get(f"/api/sessions/{sid}/model").json()
    t = before["optimizer_state"]["step"] + 1
    x, target = selected_sample(api, sid, before)
    grads = hand_gradients(before, x, target)
    step_to_update(page)
    after = api.get(f"/api/sessions/{sid}/model").json()
    assert after["optimizer_state"]["step"] == t
    for kind, index in PARAMS:
        p, g = at(before, kind, index), at(grads, kind, index)
        state0 = {k: at(before["optimizer_state"][k], kind, index) for k in BUFFERS[name]}
        state1 = {k: at(after["optimizer_state"][k], kind, index) for k in BUFFERS[name]}
        assert g != 0 and all(v != 0 for v in state0.values()), "buffers should be non-zero"
        # the server took the step the reference takes
        new, state = hand.update(name, hp, p, g, state0, t)
        assert at(after, kind, index) == pytest.approx(new, rel=1e-12, abs=1e-15)
        assert state1 == pytest.approx(state, rel=1e-12, abs=1e-18)
        # the values the rule forms on the way
        start, used = hand.decay(name, hp, p, g)
        decayed = start if name == "adamw" else None

        title, lines = shown_equations(page, kind, index, t)
        want = expected_lines(name, hp, p, g, used, decayed, state0, state1,
                              at(after, kind, index), t)
        assert [label for label, _ in lines] == [label for label, _ in want], (title, lines)
        for (_, text), (_, numbers) in zip(lines, want, strict=True):
            assert_printed(text, numbers)
        if case in ("adam", "adamw", "sgd") and (kind, index) == PARAMS[0]:
            shot(page, f"update-{case}-1280x800")
