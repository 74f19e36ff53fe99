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
