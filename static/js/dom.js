// Small DOM helpers shared by the page's modules.

/** Set an element's text, reusing its text node (cheaper for the browser than replacing it). */
export function setText(el, text) {
  const t = el.firstChild;
  if (t && t.nodeType === 3 && !t.nextSibling) {
    if (t.data !== text) t.data = text;
  } else {
    el.textContent = text;
  }
}

/** Set `el.dataset[key]` only when it differs (a rewrite, even to the same value, is a DOM
 * mutation the browser has to process). */
export function setData(el, key, value) {
  if (el.dataset[key] !== value) el.dataset[key] = value;
}
