// Classroom exercises (app/exercise.py). On a student's page, greys out every control of
// the parts the exercise locks (the body's data-locked; the server refuses those changes
// too): now, after every panel the server redraws, and in the weight editor when it
// opens. On a teacher's page, the "Make an exercise" dialog turns this page's settings
// and the teacher's choices into a link.

const CONTROLS = "button, input, select, textarea";
const LOCKED_TITLE = "Locked in this exercise";

function lockParts(parts) {
  for (const part of parts) {
    for (const el of document.querySelectorAll(`[data-group~="${part}"]`)) {
      const controls = el.matches(CONTROLS) ? [el] : el.querySelectorAll(CONTROLS);
      for (const c of controls) {
        if (c.matches('[data-action="close-slider"]')) continue;  // the editor still closes
        if (!c.disabled) c.disabled = true;
        if (c.title !== LOCKED_TITLE) c.title = LOCKED_TITLE;
      }
      el.classList.add("nn-locked");
    }
  }
}

function watchLocks(parts) {
  lockParts(parts);
  let queued = false;
  // Panels are redrawn by the server and the weight editor is built when it opens: lock
  // what appears, once per batch of changes.
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => { queued = false; lockParts(parts); });
  }).observe(document.body, { childList: true, subtree: true });
}

/** The link a teacher hands out: this page's settings (its address) and the choices. */
export function exerciseLink(href, choices, note) {
  const url = new URL(href);
  url.pathname = "/";
  for (const key of ["hide", "lock", "note"]) url.searchParams.delete(key);
  const hidden = Object.keys(choices).filter((p) => choices[p] === "hide");
  const locked = Object.keys(choices).filter((p) => choices[p] === "lock");
  if (hidden.length) url.searchParams.set("hide", hidden.join(","));
  if (locked.length) url.searchParams.set("lock", locked.join(","));
  if (note.trim()) url.searchParams.set("note", note.trim());
  return url.href;
}

function initDialog() {
  const dialog = document.querySelector(".nn-make-exercise");
  const open = document.querySelector('[data-action="make-exercise"]');
  if (!dialog || !open) return;
  const field = dialog.querySelector('[data-role="exercise-link"]');
  const done = dialog.querySelector(".nn-mx-done");
  open.addEventListener("click", () => dialog.showModal());
  dialog.querySelector('[data-action="make-exercise-link"]').addEventListener("click", async () => {
    const choices = {};
    for (const row of dialog.querySelectorAll("tr[data-part]")) {
      choices[row.dataset.part] = row.querySelector("input:checked")?.value || "open";
    }
    field.value = exerciseLink(location.href, choices, dialog.querySelector("textarea").value);
    field.closest("label").hidden = false;
    field.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch { /* no clipboard here: the link is selected in its field */ }
    done.textContent = copied ? "The link is made and copied: hand it to your students."
      : "The link is made (selected above): copy it and hand it to your students.";
    done.hidden = false;
  });
}

export function initExercise() {
  const locked = (document.body.dataset.locked || "").split(" ").filter(Boolean);
  if (locked.length) watchLocks(locked);
  initDialog();
}
