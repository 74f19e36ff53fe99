// Keep and share: the model document as a JSON file (GET/PUT /api/sessions/{id}/model),
// the network picture (#network-svg, drawn by network_view.js) as SVG and PNG, the output
// plot and the loss chart as PNG.

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
const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * The page's CSS that a standalone copy of `svg` needs: the rules whose selector matches an
 * element inside the copy `clone` (not the picture's own box, which the page sizes; not
 * :hover or :focus), with the custom properties they read set to the page's current values.
 */
function neededCss(svg, clone) {
  const rules = [];
  const keep = (rule) => {
    if (rule.cssRules && rule.media) {  // @media: its rules, when it applies now
      if (matchMedia(rule.media.mediaText).matches) for (const r of rule.cssRules) keep(r);
      return;
    }
    if (!rule.selectorText || !rule.style) return;
    const parts = rule.selectorText.split(",").map((p) => p.trim())
      .filter((p) => !p.includes(":") && clone.querySelector(p));
    if (parts.length) rules.push(`${parts.join(", ")} { ${rule.style.cssText} }`);
  };
  for (const sheet of document.styleSheets) {
    try {
      for (const rule of sheet.cssRules) keep(rule);
    } catch { /* a cross-origin sheet: skip */ }
  }
  const text = rules.join("\n");
  const names = [...new Set(text.match(/--[\w-]+/g) || [])];
  const style = getComputedStyle(svg);
  const vars = names.map((n) => `${n}: ${style.getPropertyValue(n).trim()};`).join(" ");
  const font = getComputedStyle(document.body).fontFamily;  // "inherit" has no page to inherit from
  return `svg { font-family: ${font}; ${vars} }\n${text}`;
}

/** `svg` as a standalone picture of its own size (its viewBox's, times `scale`), with the
 * CSS it needs inlined and a background of the page's colour. */
function standalone(svg, clone, scale = 1) {
  clone.setAttribute("xmlns", SVG_NS);
  const vb = svg.viewBox.baseVal;
  clone.setAttribute("width", Math.round(vb.width * scale));
  clone.setAttribute("height", Math.round(vb.height * scale));
  clone.removeAttribute("style");
  const style = document.createElementNS(SVG_NS, "style");
  style.textContent = neededCss(svg, clone);
  const bg = document.createElementNS(SVG_NS, "rect");
  for (const [k, v] of [["x", vb.x], ["y", vb.y], ["width", vb.width], ["height", vb.height]]) bg.setAttribute(k, v);
  bg.setAttribute("fill", background());
  clone.insertBefore(bg, clone.firstChild);
  clone.insertBefore(style, clone.firstChild);
  return new XMLSerializer().serializeToString(clone);
}

function background() {
  const c = getComputedStyle(document.body).backgroundColor;
  return !c || c === "rgba(0, 0, 0, 0)" || c === "transparent" ? "#fff" : c;
}

/** The network SVG as standalone text: its own size, only the CSS it needs. */
export function networkSvgText() {
  const svg = networkSvg();
  if (!svg) throw new Error("there is no network picture on this page");
  const clone = svg.cloneNode(true);
  // What only the page uses: the click targets (transparent, 9 wide), travelling dots.
  for (const g of clone.querySelectorAll(".nv-hits, .nv-dots")) g.remove();
  // The heatmap canvases (one per column) sit in foreignObjects, which do not survive as a
  // picture (and taint a canvas): each becomes an SVG <image> of its pixels, in its place.
  // The neurons' value labels (HTML in foreignObjects) become SVG text.
  for (const fo of clone.querySelectorAll("foreignObject.nv-values")) {
    const x = Number(fo.getAttribute("x")) + Number(fo.getAttribute("width")) / 2;
    for (const span of fo.querySelectorAll(".nv-value")) {
      if (!span.textContent) continue;
      const t = document.createElementNS(SVG_NS, "text");
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
    const img = document.createElementNS(SVG_NS, "image");
    for (const a of ["x", "y", "width", "height"]) if (fo.hasAttribute(a)) img.setAttribute(a, fo.getAttribute(a));
    img.setAttribute("href", c.toDataURL());
    img.setAttribute("preserveAspectRatio", "none");
    fo.replaceWith(img);
  }
  return standalone(svg, clone);
}

export function exportSvg() {
  download(new Blob([networkSvgText()], { type: "image/svg+xml" }), "nnplay-network.svg");
}

/** A PNG of standalone SVG `text` drawn `width` x `height` pixels, offered as `name`. */
async function svgToPng(text, width, height, name) {
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
  try {
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error("the picture could not be rendered"));
      img.src = url;
    });
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width));
    canvas.height = Math.max(1, Math.round(height));
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = background();
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    await pngDownload(canvas, name);
  } finally {
    URL.revokeObjectURL(url);
  }
}

async function pngDownload(canvas, name) {
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  download(blob, name);
}

export async function exportPng(scale = 2) {
  const svg = networkSvg();
  if (!svg) throw new Error("there is no network picture on this page");
  const vb = svg.viewBox.baseVal;
  await svgToPng(networkSvgText(), vb.width * scale, vb.height * scale, "nnplay-network.png");
}

/** The loss chart (#pg-loss-chart, chart.js) as a PNG, `scale` times its viewBox. */
export async function exportChartPng(scale = 3) {
  const svg = document.querySelector("#pg-loss-chart");
  if (!svg || !svg.firstChild) throw new Error("there is no loss chart on this page");
  const clone = svg.cloneNode(true);
  clone.querySelector(".pg-hover")?.remove();
  const vb = svg.viewBox.baseVal;
  await svgToPng(standalone(svg, clone), vb.width * scale, vb.height * scale, "nnplay-loss.png");
}

/**
 * The output plot as a PNG: the map (as the page shows it, a little faded over white), the
 * points, the axes' tick values and the colour legend's entries, drawn on one canvas.
 */
export async function exportPlotPng() {
  const map = document.querySelector("#pg-boundary-map"), points = document.querySelector("#pg-boundary");
  if (!map || !points) throw new Error("there is no output plot on this page");
  const side = points.width, left = 40, bottom = 34, top = 12, right = 16, legendH = 22;
  const canvas = document.createElement("canvas");
  canvas.width = left + side + right;
  canvas.height = top + side + bottom + legendH;
  const ctx = canvas.getContext("2d");
  const ink = getComputedStyle(document.body).color || "#222";
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = Number(getComputedStyle(map).opacity) || 1;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(map, left, top, side, side);
  ctx.globalAlpha = 1;
  ctx.drawImage(points, left, top, side, side);
  ctx.strokeStyle = "#999";
  ctx.strokeRect(left + 0.5, top + 0.5, side - 1, side - 1);
  ctx.fillStyle = "#333";
  ctx.font = "14px sans-serif";
  const ticks = (sel) => [...document.querySelectorAll(`${sel} .pg-tick`)].map((t) => t.textContent);
  const xs = ticks(".pg-ticks--x"), ys = ticks(".pg-ticks--y");
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  xs.forEach((t, i) => ctx.fillText(t, left + (i / (xs.length - 1)) * side, top + side + 4));
  ctx.fillText("x1", left + side / 2, top + side + 18);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ys.forEach((t, i) => ctx.fillText(t, left - 6, top + side - (i / (ys.length - 1)) * side));
  ctx.textAlign = "left";
  ctx.fillText("x2", 2, top + side / 2);
  // The legend's entries: a swatch (a class) or a ramp (a value range), then its text.
  let x = left;
  const y = top + side + bottom + legendH / 2;
  for (const li of document.querySelectorAll(".pg-legend .pg-legend-item")) {
    for (const part of li.childNodes) {
      if (part.nodeType === 1 && part.classList.contains("pg-legend-swatch")) {
        ctx.fillStyle = getComputedStyle(part).backgroundColor;
        ctx.beginPath();
        ctx.arc(x + 6, y, 6, 0, 2 * Math.PI);
        ctx.fill();
        x += 16;
      } else if (part.nodeType === 1 && part.classList.contains("pg-legend-ramp")) {
        const g = ctx.createLinearGradient(x, 0, x + 64, 0);
        const stops = getComputedStyle(part).backgroundImage.match(/rgb\([^)]*\)/g) || [];
        stops.forEach((c, i) => g.addColorStop(i / Math.max(1, stops.length - 1), c));
        ctx.fillStyle = g;
        ctx.fillRect(x, y - 5, 64, 10);
        x += 70;
      } else if (part.textContent.trim()) {
        ctx.fillStyle = ink;
        ctx.fillText(part.textContent.trim(), x, y);
        x += ctx.measureText(part.textContent.trim()).width + 6;
      }
    }
    x += 12;
  }
  await pngDownload(canvas, "nnplay-output.png");
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
