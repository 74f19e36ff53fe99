// The first-visit guide (templates/partials/guide.html, words in app/guide.py): a welcome
// line on a first visit, a tour that walks the page's parts one stop at a time (each stop
// outlines its part and scrolls it into view), and the glossary. The tour is not modal:
// the page stays usable under it.

const SEEN = "nnplay.guide.seen";

function remembered() {
  try { return localStorage.getItem(SEEN) === "1"; } catch { return true; }
}

function remember() {
  try { localStorage.setItem(SEEN, "1"); } catch { /* private mode: ask again next time */ }
}

export function initGuide(root = document) {
  const tour = root.querySelector(".nn-tour");
  const glossary = root.querySelector(".nn-glossary");
  const welcome = root.querySelector('[data-role="welcome"]');
  if (!tour || !glossary) return;
  const stops = [...tour.querySelectorAll("template[data-stop]")];
  const back = tour.querySelector('[data-action="tour-back"]');
  const next = tour.querySelector('[data-action="tour-next"]');
  let at = 0;
  let target = null;

  function outline(el) {
    target?.classList.remove("nn-tour-target");
    target = el;
    target?.classList.add("nn-tour-target");
  }

  function show(k) {
    at = Math.max(0, Math.min(stops.length - 1, k));
    const stop = stops[at];
    tour.querySelector('[data-role="count"]').textContent = `${at + 1} of ${stops.length}`;
    tour.querySelector(".nn-tour-title").textContent = stop.dataset.title;
    tour.querySelector(".nn-tour-text").textContent = stop.content.textContent;
    back.disabled = at === 0;
    next.textContent = at === stops.length - 1 ? "Done" : "Next";
    const el = document.querySelector(stop.dataset.target);
    outline(el);
    el?.scrollIntoView({ block: "nearest", behavior: "auto" });
  }

  function open() {
    if (welcome) welcome.hidden = true;
    remember();
    if (!tour.open) tour.show();
    show(0);
    next.focus();
  }

  function close() {
    outline(null);
    if (tour.open) tour.close();
  }

  root.querySelectorAll('[data-action="tour"]').forEach((b) => b.addEventListener("click", open));
  root.querySelector('[data-action="no-tour"]')?.addEventListener("click", () => {
    welcome.hidden = true;
    remember();
  });
  root.querySelector('[data-action="glossary"]')?.addEventListener("click", () => glossary.showModal());
  back.addEventListener("click", () => show(at - 1));
  next.addEventListener("click", () => (at === stops.length - 1 ? close() : show(at + 1)));
  tour.querySelector('[data-action="tour-close"]').addEventListener("click", close);
  tour.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { ev.preventDefault(); close(); }
  });
  tour.addEventListener("close", () => outline(null));
  if (welcome && !remembered()) welcome.hidden = false;
}
