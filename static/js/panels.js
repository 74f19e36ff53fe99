// The server-rendered panels (htmx partials) and the session's newer state.
//
// - Each panel says which state of the session it shows (`data-rev`, the session's
//   version when it was rendered). A panel older than the one on screen is not swapped
//   in: a refresh that crossed a newer change on the wire would show, and then post, the
//   older values (a person's change undone by their next one).
// - The address bar names the session (`/s/{id}?<settings>`) from the first paint on.
// - A live setting changed elsewhere (another tab on the same session, a projector) comes
//   in the frame: its control follows, unless the person is using it right now.

const rev = (el) => Number(el && el.dataset && el.dataset.rev) || 0;
// Whether the swap under way is a refresh (a GET). A refresh of the same state as on screen
// adds nothing, and would wipe what the answer to a person's last change said (a refused
// file's message): only newer ones go in. An answer (a POST) of the same state goes in.
let refresh = false;

export function keepNewestPanels(body = document.body) {
  const stale = (incoming, target) => (refresh ? incoming <= rev(target) : incoming < rev(target));
  body.addEventListener("htmx:beforeSwap", (ev) => {
    const target = ev.detail.target;
    const verb = ev.detail.requestConfig && ev.detail.requestConfig.verb;
    refresh = verb === "get";
    const m = /data-rev="(\d+)"/.exec(ev.detail.serverResponse || "");
    if (m && target && target.dataset.rev !== undefined && stale(Number(m[1]), target)) {
      ev.detail.shouldSwap = false;
    }
  });
  body.addEventListener("htmx:oobBeforeSwap", (ev) => {
    const incoming = ev.detail.fragment && ev.detail.fragment.firstElementChild;
    const target = ev.detail.target;
    if (incoming && target && incoming.dataset.rev !== undefined && stale(rev(incoming), target)) {
      ev.detail.shouldSwap = false;
    }
  });
}

/**
 * A range control's `<output>` beside it shows its value while it is dragged (the value is
 * posted on release, as a change). One listener for every panel, old and swapped in: the
 * page's Content-Security-Policy runs no inline handler.
 */
export function showRangeValues(body = document.body) {
  body.addEventListener("input", (ev) => {
    const el = ev.target;
    if (!el.matches || !el.matches('.pg-range > input[type="range"]')) return;
    const out = el.nextElementSibling;
    if (out && out.tagName === "OUTPUT") out.textContent = el.value;
  });
}

/** Whether every panel on screen shows the session at `version` or later. */
export function panelsShow(version, root = document) {
  if (typeof version !== "number") return false;
  const panels = root.querySelectorAll("[data-rev]");
  return panels.length > 0 && [...panels].every((p) => rev(p) >= version);
}

/** Show the page's own address (the server put it on `[data-page-url]`). */
export function nameThePage(root = document) {
  const el = root.querySelector("[data-page-url]");
  if (el && el.dataset.pageUrl) history.replaceState(null, "", el.dataset.pageUrl);
}

// The frame's live settings, each as its control's value would read.
const LIVE = {
  learning_rate: (f) => f.learning_rate,
  batch_size: (f) => f.batch_size,
  regularization: (f) => f.regularization && f.regularization.name,
  regularization_rate: (f) => f.regularization && f.regularization.rate,
  speed: (f) => f.speed,
};

/** Set each live setting's control to `frame`'s value where it differs. */
export function followLiveSettings(frame, root = document) {
  for (const [name, read] of Object.entries(LIVE)) {
    const want = read(frame);
    const el = root.querySelector(`#controls [name="${name}"]`);
    if (want === undefined || want === null || !el || el === document.activeElement) continue;
    if (el.tagName === "SELECT") {
      const same = (v) => (typeof want === "number" ? Number(v) === want : v === want);
      if (same(el.value)) continue;
      const option = [...el.options].find((o) => same(o.value));
      if (option) el.value = option.value;
    } else if (Number(el.value) !== Number(want)) {
      el.value = String(want);
      const out = el.nextElementSibling;
      if (out && out.tagName === "OUTPUT") out.textContent = el.value;
    }
  }
}

/**
 * A value typed beside a drop-down of presets (`input[data-typed-for=name]`, e.g. the
 * learning rate): it joins the list, is chosen, and goes as that drop-down's change; the
 * server checks it against the settings table (a refused one comes back with its error).
 */
function typedChoice(box) {
  const select = box.form && box.form.querySelector(`select[name="${box.dataset.typedFor}"]`);
  const v = box.value.trim() === "" ? NaN : Number(box.value);
  box.setCustomValidity(Number.isFinite(v) ? "" : "a number");
  if (!select || !Number.isFinite(v)) return;
  const text = String(v);
  let option = [...select.options].find((o) => Number(o.value) === v);
  if (!option) {
    option = new Option(text, text);
    const after = [...select.options].find((o) => Number(o.value) > v);
    select.add(option, after || null);
  }
  select.value = option.value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
}

/**
 * The control forms (`form[data-post]`: the top bar and architecture, the data panel and
 * its CSV upload) send each change on its own, in the order it was made, with the values
 * it had when it was made: only the setting that changed (every field of that name, a
 * file chosen) and the view's hidden fields, never the rest of the form. A form redrawn from an older state, or changed in
 * another tab, can then never send stale values along with a person's change, and a
 * change made while the previous one is on its way is queued, not dropped (htmx drops or
 * replaces a request from an element that is busy or was swapped out). The server keeps
 * every setting a post leaves out (app/routes/ui.py, values_from_form).
 */
let queue = Promise.resolve();  // the person's changes on their way, in order

/** Resolves once every change sent so far is answered and its panels are drawn. */
export function whenAnswered() {
  return queue;
}

export function sendChangesInOrder(body = document.body, { beforeSwap = () => {} } = {}) {

  function capture(form, source) {
    const data = new FormData();
    for (const hidden of form.querySelectorAll('input[type="hidden"][name="hide"]')) {
      data.append("hide", hidden.value);
    }
    if (!source || !source.name) return data;
    if (source.tagName === "BUTTON") {
      data.append(source.name, source.value);
      return data;
    }
    for (const el of form.elements) {
      if (el.name !== source.name || el.disabled) continue;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
      if (el.type === "file") {
        for (const file of el.files) data.append(el.name, file);  // read when it is sent
      } else {
        data.append(el.name, el.value);
      }
    }
    if (source.name === "features") data.append("_has", "features");  // the whole set
    return data;
  }

  function send(form, source) {
    const url = (source && source.getAttribute && source.getAttribute("formaction"))
      || form.getAttribute("data-post");
    const target = form.getAttribute("data-target");
    const data = capture(form, source);
    queue = queue.then(async () => {
      const res = await fetch(url, { method: "POST", body: data, headers: { "HX-Request": "true" } });
      const html = await res.text();
      const redirect = res.headers.get("HX-Redirect");
      if (redirect) {
        window.location.assign(redirect);
        return;
      }
      const here = document.querySelector(target);
      const m = /data-rev="(\d+)"/.exec(html);
      if (!here || (m && Number(m[1]) < rev(here))) return;  // a newer one is on screen
      const address = res.headers.get("HX-Replace-Url");
      if (address) history.replaceState(null, "", address);
      const focused = document.activeElement;
      const refocus = focused && focused.name && here.contains(focused) ? focused.name : null;
      beforeSwap();
      refresh = false;  // an answer: its out-of-band parts go in too
      window.htmx.swap(here, html, { swapStyle: "outerHTML" });
      // keyboard users stay on the control they used (controls have names, not ids)
      const again = refocus && document.querySelector(`${target} [name="${refocus}"]`);
      if (again) again.focus({ preventScroll: true });
    }).catch(() => { /* offline or refused: the next change tries again */ });
  }

  body.addEventListener("change", (ev) => {
    if (ev.target.matches("input[data-typed-for]")) {
      typedChoice(ev.target);
      return;
    }
    const form = ev.target.form;
    if (form && form.hasAttribute("data-post") && ev.target.name) send(form, ev.target);
  });
  body.addEventListener("submit", (ev) => {
    const form = ev.target;
    // (getAttribute: a form's own properties are shadowed by its fields' names, and the
    // data panel has fields named "dataset")
    if (!form.hasAttribute || !form.hasAttribute("data-post")) return;
    ev.preventDefault();
    // Enter in a field submits the form "with" its first button (here: add a layer): the
    // field's change has gone already, and no button was pressed.
    const field = document.activeElement;
    if (field && field !== ev.submitter && field.matches("input, select, textarea")) return;
    // a button pressed (op, dataset, undo)
    if (ev.submitter && (ev.submitter.name || ev.submitter.getAttribute("formaction"))) {
      send(form, ev.submitter);
    }
  });
}
