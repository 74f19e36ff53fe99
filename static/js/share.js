// Keep and share: the model document as a JSON file (GET/PUT /api/sessions/{id}/model)
// and the network picture (#network-svg, drawn by network_view.js) as SVG and PNG.

/** Offer `blob` as a download named `name`. */
export function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export async function exportModel(sessionId) {
  const res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/model`);
  if (!res.ok) throw new Error(`export failed (${res.status})`);
  download(new Blob([await res.text()], { type: "application/json" }), "nnplay-model.json");
}

// The network view's picture, drawn by network_view.js.
const networkSvg = () => document.querySelector("#network-svg");

/** The network SVG as standalone text, with the page's CSS rules inlined. */
export function networkSvgText() {
  const svg = networkSvg();
  if (!svg) throw new Error("there is no network picture on this page");
  const clone = svg.cloneNode(true);
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  const box = svg.getBoundingClientRect();
  if (!clone.getAttribute("width")) clone.setAttribute("width", Math.round(box.width));
  if (!clone.getAttribute("height")) clone.setAttribute("height", Math.round(box.height));
  const rules = [];
  for (const sheet of document.styleSheets) {
    try {
      for (const rule of sheet.cssRules) rules.push(rule.cssText);
    } catch { /* a cross-origin sheet: skip */ }
  }
  const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
  style.textContent = rules.join("\n");
  clone.insertBefore(style, clone.firstChild);
  // The heatmap canvases (one per column) sit in foreignObjects, which do not survive as a
  // picture (and taint a canvas): each becomes an SVG <image> of its pixels, in its place.
  // The neurons' value labels (HTML in foreignObjects) become SVG text.
  for (const fo of clone.querySelectorAll("foreignObject.nv-values")) {
    const x = Number(fo.getAttribute("x")) + Number(fo.getAttribute("width")) / 2;
    for (const span of fo.querySelectorAll(".nv-value")) {
      if (!span.textContent) continue;
      const t = document.createElementNS("http://www.w3.org/2000/svg", "text");
      t.setAttribute("x", x);
      t.setAttribute("y", Number(fo.getAttribute("y")) + parseFloat(span.style.top) + 10);
      t.setAttribute("class", "nv-value-text");
      t.textContent = span.textContent;
      fo.before(t);
    }
    fo.remove();
  }
  const canvases = svg.querySelectorAll("foreignObject canvas");
  const holders = clone.querySelectorAll("foreignObject");
  let k = 0;
  for (const fo of holders) {
    const c = fo.querySelector("canvas") ? canvases[k++] : null;
    if (!c) { fo.remove(); continue; }
    const img = document.createElementNS("http://www.w3.org/2000/svg", "image");
    for (const a of ["x", "y", "width", "height"]) if (fo.hasAttribute(a)) img.setAttribute(a, fo.getAttribute(a));
    img.setAttribute("href", c.toDataURL());
    img.setAttribute("preserveAspectRatio", "none");
    fo.replaceWith(img);
  }
  return new XMLSerializer().serializeToString(clone);
}

export function exportSvg() {
  download(new Blob([networkSvgText()], { type: "image/svg+xml" }), "nnplay-network.svg");
}

export async function exportPng(scale = 2) {
  const text = networkSvgText();
  const svg = networkSvg();
  const box = svg.getBoundingClientRect();
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
  await new Promise((resolve, reject) => {
    img.onload = resolve;
    img.onerror = () => reject(new Error("the network picture could not be rendered"));
    img.src = url;
  });
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(box.width * scale));
  canvas.height = Math.max(1, Math.round(box.height * scale));
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor || "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  URL.revokeObjectURL(url);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  download(blob, "nnplay-network.png");
}

/** Put `text` on the clipboard when the browser allows it; false otherwise. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
