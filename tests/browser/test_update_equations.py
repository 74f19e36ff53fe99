"""The update phase (e) of the step animation shows each optimizer's rule with the
trace's numbers put in (static/js/equations.js `updateEquation`).

For sgd, momentum, nesterov, rmsprop, adam and adamw the optimizer is given state first
(two steps through the JSON API), then the page steps one sample, jumps to the update
phase and selects a weight (and a bias). Every number printed in the selected
parameter's equations is compared, in order and within its printed precision, with the
trace the page received; the new value and buffers, the effective gradient
g = dL/dw + weight_decay w and adamw's decayed w (1 - lr weight_decay) are recomputed
here in plain Python floats with torch.optim's rules, from the trace's old value,
gradient and state before.
"""

from __future__ import annotations

import re

import pytest

from tests import hand_optimizers as hand
from tests.browser.conftest import load, shot

PHASES_UPDATE = 'button[data-phase="update"]'

WEIGHTS = [[[0.2, -0.5], [0.4, 0.3]], [[0.7], [-0.6]]]
BIASES = [[0.1, -0.2], [0.05]]

CASES = {
    "sgd": {"learning_rate": 0.1, "weight_decay": 0.05},
    "momentum": {"learning_rate": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.05},
    "nesterov": {"learning_rate": 0.1, "momentum": 0.8, "weight_decay": 0.05},
    "rmsprop": {"learning_rate": 0.01, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.05},
    "adam": {"learning_rate": 0.05, "betas": [0.8, 0.99], "eps": 1e-8, "weight_decay": 0.05},
    "adamw": {"learning_rate": 0.05, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1},
    # without weight decay the trace's gradient itself is printed inside each line
    "momentum-nodecay": {"learning_rate": 0.1, "momentum": 0.9, "dampening": 0.0,
                         "weight_decay": 0.0},
    "nesterov-nodecay": {"learning_rate": 0.1, "momentum": 0.8, "weight_decay": 0.0},
    "rmsprop-nodecay": {"learning_rate": 0.01, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.0},
    "adam-nodecay": {"learning_rate": 0.05, "betas": [0.8, 0.99], "eps": 1e-8,
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


def precision(token: str) -> float:
    """Half a unit in the last place fmt() prints."""
    if "e" in token:
        return 0.5 * 10.0 ** (int(token.split("e")[1]) - 2)
    return 0.5e-4


def assert_printed(text: str, expected: list[float]):
    got = printed_numbers(text)
    assert len(got) == len(expected), f"{text!r}: printed {got}, expected {expected}"
    for token, want in zip(got, expected, strict=True):
        assert abs(float(token) - want) <= precision(token) + 1e-12, \
            f"{text!r}: {token} is not {want!r}"


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


# ---- the page ------------------------------------------------------------------------


def at(tree: dict, kind: str, index: tuple, prefix: str = "") -> float:
    """{prefix}weights[l][i][j] or {prefix}biases[l][j] of a {weights, biases} tree."""
    if kind == "weight":
        l, i, j = index
        return tree[f"{prefix}weights"][l][i][j]
    l, j = index
    return tree[f"{prefix}biases"][l][j]


def setup_session(page, server, api, name: str, hp: dict) -> tuple[str, dict]:
    """The page's session with our model and an optimizer that already has state.

    Returns the session id and the trace of the second (last) API step."""
    sid = load(page, server)
    doc = {"layers": [2, 2, 1], "activation": "tanh", "output_activation": "linear",
           "loss": "mse", "optimizer": {"name": name, **hp},
           "weights": WEIGHTS, "biases": BIASES}
    api.put(f"/api/sessions/{sid}/model", json=doc).raise_for_status()
    page.wait_for_function(
        "name => window.nnplay.state.model && window.nnplay.state.model.optimizer.name === name"
        " && document.querySelectorAll('#network-view .nv-node').length === 5", arg=name)
    for _ in range(2):
        r = api.post(f"/api/sessions/{sid}/step", json={"unit": "sample"})
        r.raise_for_status()
    return sid, r.json()


def step_to_update(page) -> dict:
    """Step one sample in the page, pause, jump to (e) update; the trace the page shows."""
    page.click('[data-action="step-sample"]')
    page.wait_for_function(
        "() => { const t = window.nnplay.steps.stepper.trace; return t && t.update.step === 3; }")
    if page.get_attribute("#step-panel", "data-playing") == "true":
        page.click('[data-action="anim-toggle"]')
    page.click(PHASES_UPDATE)
    assert page.get_attribute("#step-panel", "data-current-phase") == "update"
    return page.evaluate("() => window.nnplay.steps.stepper.trace")


def shown_equations(page, kind: str, index: tuple) -> tuple[str, list[tuple[str, str]]]:
    """Select a weight (click its edge) or a bias; the title and (label, text) lines of
    its update equation. A weight shows its own equation alone; a bias shows the weights
    into its neuron and then its own, titled "bias of ..."."""
    if kind == "weight":
        l, i, j = index
        target = f'path.nv-hit[data-layer="{l}"][data-from="{i}"][data-to="{j}"]'
        want = {"kind": "weight", "layer": l, "from": i, "to": j}
    else:
        l, j = index
        target = f'circle.nv-bias[data-layer="{l}"][data-neuron="{j}"]'
        want = {"kind": "bias", "layer": l, "neuron": j}
    page.locator(target).dispatch_event("click")
    page.wait_for_function(
        """want => {
            const sel = window.nnplay.steps.selection;
            return !!sel && Object.keys(want).every((k) => sel[k] === want[k]);
        }""", arg=want)
    groups = page.evaluate("""() => {
        const text = (e, sel) => e.querySelector(sel).textContent;
        return [...document.querySelectorAll('[data-role="equations"] .eq-group')].map((g) => [
            text(g, '.eq-title'),
            [...g.querySelectorAll('.eq-line')].map((r) => [text(r, '.eq-label'), text(r, 'code')]),
        ]);
    }""")
    if kind == "weight":
        assert len(groups) == 1, groups
        return groups[0]
    mine = [g for g in groups if ": bias of " in g[0]]
    assert len(mine) == 1, groups
    return mine[0]


PARAMS = [("weight", (1, 1, 0)), ("weight", (0, 0, 1)), ("bias", (1, 0))]


@pytest.mark.parametrize("case", list(CASES))
def test_update_equation_shows_the_optimizers_rule_with_the_traces_numbers(
        page, server, api, case):
    name = case.split("-")[0]
    hp = CASES[case]
    sid, previous = setup_session(page, server, api, name, hp)
    trace = step_to_update(page)
    u = trace["update"]
    assert u["optimizer"] == name and u["step"] == 3
    assert u["hyperparameters"] == {**u["hyperparameters"], **hp}
    # the page's trace continues the API's steps, and the server kept what it shows
    assert u["weights_before"] == previous["update"]["weights_after"]
    assert u["biases_before"] == previous["update"]["biases_after"]
    assert u["state_before"] == previous["update"]["state_after"]
    doc = api.get(f"/api/sessions/{sid}/model").json()
    assert doc["weights"] == u["weights_after"] and doc["biases"] == u["biases_after"]
    assert doc["optimizer_state"]["step"] == 3
    for key in BUFFERS[name]:
        assert doc["optimizer_state"][key] == u["state_after"][key]

    before_tree = {"weights": u["weights_before"], "biases": u["biases_before"]}
    after_tree = {"weights": u["weights_after"], "biases": u["biases_after"]}
    for kind, index in PARAMS:
        p, g = at(before_tree, kind, index), at(trace["gradients"], kind, index)
        before = {k: at(u["state_before"][k], kind, index) for k in BUFFERS[name]}
        after = {k: at(u["state_after"][k], kind, index) for k in BUFFERS[name]}
        assert g != 0 and all(v != 0 for v in before.values()), "buffers should be non-zero"
        new, state = hand.update(name, hp, p, g, before, 3)
        assert at(after_tree, kind, index) == pytest.approx(new, rel=1e-12, abs=1e-15)
        assert after == pytest.approx(state, rel=1e-12, abs=1e-18)
        # the values the rule formed on the way, as the trace reports them
        start, g_rule = hand.decay(name, hp, p, g)
        used = at(u["gradients_used"], kind, index)
        assert used == pytest.approx(g_rule, rel=1e-15, abs=1e-18)
        if hp["weight_decay"] and name != "adamw":
            assert used != g
        decayed = at(u, kind, index, prefix="decayed_") if name == "adamw" else None
        if name == "adamw":
            assert decayed == pytest.approx(start, rel=1e-15, abs=0) and decayed != p
        else:
            assert "decayed_weights" not in u and "decayed_biases" not in u

        title, lines = shown_equations(page, kind, index)
        assert title.startswith("update (step 3): "), title
        want = expected_lines(name, hp, p, g, used, decayed, before, after,
                              at(after_tree, kind, index), 3)
        assert [label for label, _ in lines] == [label for label, _ in want], lines
        for (_, text), (_, numbers) in zip(lines, want, strict=True):
            assert_printed(text, numbers)
        if case in ("adam", "adamw", "sgd") and (kind, index) == PARAMS[0]:
            shot(page, f"update-{case}-1280x800")
