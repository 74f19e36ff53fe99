// The page's one number formatter: every number shown (labels, figures, equations, chart
// ticks) is written here, with the digits its kind of value deserves. Intl.NumberFormat in
// one locale (en-US: a point for decimals, no grouping), so "0.5" reads the same everywhere;
// very large or small values in a short exponent form ("1.82e+154", "3.2e-7"), never a
// 17-digit float.

const LOCALE = "en-US";

// kind: {fixed: significant digits at most in fixed form, frac: decimals at most,
//        lo/hi: the fixed form's range of |x| (outside: exponent form), exp: exponent digits}
const KINDS = {
  value: { sig: 5, frac: 4, lo: 1e-4, hi: 1e4, exp: 3 },      // weights, activations, equations
  loss: { sig: 4, frac: 6, lo: 1e-3, hi: 1e4, exp: 3 },       // losses, MSE, MAE
  ratio: { sig: 5, frac: 4, lo: 1e-4, hi: 1e4, exp: 3, minFrac: 4 },  // accuracy, precision...
  rate: { sig: 3, frac: 6, lo: 1e-4, hi: 1e4, exp: 2 },       // learning rate, regularization
  count: { sig: 21, frac: 0, lo: 0, hi: 1e15, exp: 3 },       // epochs, steps, samples
  speed: { sig: 6, frac: 1, lo: 0, hi: 1e7, exp: 3, minFrac: 1 },  // per-second readouts
  tick: { sig: 3, frac: 4, lo: 1e-3, hi: 1e5, exp: 2 },       // chart axis labels
  label: { sig: 2, frac: 3, lo: 1e-3, hi: 1e3, exp: 1 },      // edge labels on a big network
};

const cache = new Map();
function formatter(key, options) {
  let f = cache.get(key);
  if (!f) {
    f = new Intl.NumberFormat(LOCALE, { useGrouping: false, ...options });
    cache.set(key, f);
  }
  return f;
}

/** `x` in exponent form with `digits` significant digits: "1.82e+154", "-3.5e-7". */
function exponent(x, digits) {
  const parts = formatter(`e${digits}`, {
    notation: "scientific", maximumSignificantDigits: digits,
  }).formatToParts(x);
  let mantissa = "", sign = "+", power = "";
  for (const p of parts) {
    if (p.type === "exponentMinusSign") sign = "-";
    else if (p.type === "exponentInteger") power = p.value;
    else if (p.type !== "exponentSeparator") mantissa += p.value;
  }
  return `${mantissa}e${sign}${power}`;
}

/**
 * The text of number `x` as a value of `kind` ("value", "loss", "ratio", "rate", "count",
 * "speed", "tick", "label"): "–" for null or undefined, "NaN"/"∞" for non-finite numbers.
 */
export function formatNumber(x, kind = "value") {
  if (x === null || x === undefined) return "\u2013";
  if (typeof x !== "number") return String(x);
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "\u221e" : "\u2212\u221e";
  const k = KINDS[kind] || KINDS.value;
  const a = Math.abs(x);
  if (x !== 0 && (a < k.lo || a >= k.hi)) return exponent(x, k.exp);
  // Decimals: as many as `frac`, fewer when the integer part takes the significant digits.
  const whole = a >= 1 ? Math.floor(Math.log10(a)) + 1 : 0;
  const lead = a > 0 && a < 1 ? -Math.floor(Math.log10(a)) - 1 : 0;  // zeros after the point
  const frac = Math.max(0, Math.min(k.frac, k.sig - whole + lead));
  const minFrac = Math.min(k.minFrac || 0, frac);
  const s = formatter(`f${frac}:${minFrac}`, {
    maximumFractionDigits: frac, minimumFractionDigits: minFrac,
  }).format(x);
  return s === "-0" ? "0" : s;
}

/** Short text of an engine value (weight, bias, activation, gradient). */
export const fmtValue = (x) => formatNumber(x, "value");
