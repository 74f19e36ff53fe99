// The equation behind each number of a step trace (docs/PROTOCOL.md "The step trace"),
// with the engine's numbers put in. Every number shown is read from the trace;
// nothing here computes a value the engine computed, it only formats.

import { fmtValue } from "./format.js";

/** Short text of an engine number (format.js, the page's one formatter). */
export function fmt(x) {
  return fmtValue(x);
}

/** A factor in a product: negatives in parentheses, as the seed document writes them. */
export function term(x) {
  const s = fmt(x);
  return s.startsWith("-") ? `(${s})` : s;
}

/** Display name of neuron j of layer l (0 = input features). */
export function neuronName(l, j, { nLayers, features = [] } = {}) {
  if (l === 0) return features[j] || `x${j + 1}`;
  if (l === nLayers - 1) return `output ${j + 1}`;
  return `hidden ${l} neuron ${j + 1}`;
}

const ACT_DERIV = {
  linear: "1", relu: "relu'", leaky_relu: "leaky_relu'", elu: "elu'", tanh: "tanh'",
  sigmoid: "sigmoid'", softplus: "softplus'", silu: "silu'",
};


/** z = sum a*w + b, then a = f(z), from the inputs `prev`, the weight column `col`, bias `b`. */
function sumEquation({ prev, col, b, z, a, act }) {
  const terms = prev.map((x, i) => `${term(x)}*${term(col[i])}`);
  const lines = [
    { label: "weighted sum", text: `z = Σ a·w + b = ${terms.join(" + ")} + ${term(b)} = ${fmt(z)}` },
  ];
  if (act === "softmax") lines.push({ label: "activation", text: `a = softmax(z) = e^z / Σ e^z = ${fmt(a)}` });
  else lines.push({ label: "activation", text: `a = ${act}(z) = ${act}(${fmt(z)}) = ${fmt(a)}` });
  return { title: "forward", lines };
}

/** Forward pass of neuron j in layer l >= 1 for sample s of a step trace (weights before the update). */
export function forwardEquation(trace, l, j, s = 0) {
  const layer = trace.layers[l];
  return sumEquation({
    prev: trace.layers[l - 1].a[s],
    col: trace.update.weights_before[l - 1].map((row) => row[j]),
    b: trace.update.biases_before[l - 1][j],
    z: layer.z[s][j], a: layer.a[s][j], act: layer.activation,
  });
}

/** The same from a live frame: the selected sample's values and the current weights. */
export function forwardEquationFromFrame(frame, l, j, act) {
  const smp = frame.sample;
  if (!smp || !smp.z) return null;
  return sumEquation({
    prev: smp.a[l - 1],
    col: frame.weights[l - 1].map((row) => row[j]),
    b: frame.biases[l - 1][j],
    z: smp.z[l - 1][j], a: smp.a[l][j], act,
  });
}

const LOSS_TEXT = {
  sse: { sym: "Σ_k (t_k − y_k)^2", part: (y, t) => `(${fmt(t)} − ${term(y)})^2`, join: " + ", wrap: (s) => s },
  mse: { sym: "1/K Σ_k (y_k − t_k)^2", part: (y, t) => `(${fmt(y)} − ${term(t)})^2`, join: " + ", wrap: (s, K) => `(${s}) / ${K}` },
  mae: { sym: "1/K Σ_k |y_k − t_k|", part: (y, t) => `|${fmt(y)} − ${term(t)}|`, join: " + ", wrap: (s, K) => `(${s}) / ${K}` },
  huber: { sym: "1/K Σ_k huber_δ(y_k − t_k)", part: (y, t) => `huber(${fmt(y)} − ${term(t)})`, join: " + ", wrap: (s, K) => `(${s}) / ${K}` },
  binary_cross_entropy: {
    sym: "−1/K Σ_k [t log y + (1 − t) log(1 − y)]",
    part: (y, t) => `[${fmt(t)}·log ${fmt(y)} + (1 − ${fmt(t)})·log(1 − ${fmt(y)})]`,
    join: " + ", wrap: (s, K) => `−(${s}) / ${K}`,
  },
  cross_entropy: { sym: "−Σ_k t_k log y_k", part: (y, t) => `${fmt(t)}·log ${fmt(y)}`, join: " + ", wrap: (s) => `−(${s})` },
  hinge: { sym: "1/K Σ_k max(0, 1 − t·y)", part: (y, t) => `max(0, 1 − ${term(t)}·${term(y)})`, join: " + ", wrap: (s, K) => `(${s}) / ${K}` },
};

/** The loss of each sample, the batch mean and the regularization term. */
export function lossEquation(trace) {
  const L = trace.loss;
  const out = trace.layers[trace.layers.length - 1];
  const spec = LOSS_TEXT[L.name] || { sym: `${L.name}(y, t)`, part: (y, t) => `(${fmt(y)}, ${fmt(t)})`, join: ", ", wrap: (s) => `${L.name}(${s})` };
  const lines = [{ label: L.name, text: `L = ${spec.sym}` }];
  trace.targets.forEach((t, s) => {
    const y = out.a[s];
    const K = y.length;
    const body = spec.wrap(y.map((yk, k) => spec.part(yk, t[k])).join(spec.join), K);
    const who = trace.targets.length > 1 ? `L_${s + 1}` : "L";
    lines.push({ label: `sample ${s + 1}`, text: `${who} = ${body} = ${fmt(L.per_sample[s])}` });
  });
  if (trace.targets.length > 1) {
    const parts = L.per_sample.map(fmt).join(" + ");
    lines.push({ label: "batch mean", text: `L = (${parts}) / ${trace.targets.length} = ${fmt(L.data)}` });
  }
  if (L.regularization) {
    const r = trace.regularization;
    const sym = r.name === "l1" ? "rate·Σ|w|" : "rate·½Σw²";
    lines.push({ label: r.name, text: `penalty = ${sym} = ${fmt(L.regularization)} (rate ${fmt(r.rate)})` });
    lines.push({ label: "total", text: `L = ${fmt(L.data)} + ${fmt(L.regularization)} = ${fmt(L.total)}` });
  }
  return { title: "loss", lines };
}

const OUTPUT_DELTA = {
  sse: (y, t, n) => `2·(${fmt(y)} − ${term(t)}) / ${n}`,
  mse: (y, t, n, K) => `2·(${fmt(y)} − ${term(t)}) / ${n * K}`,
  mae: (y, t, n, K) => `sign(${fmt(y)} − ${term(t)}) / ${n * K}`,
  huber: (y, t, n, K) => `clip(${fmt(y)} − ${term(t)}, −δ, δ) / ${n * K}`,
  hinge: (y, t, n, K) => `(t·y < 1 ? −${term(t)} : 0) / ${n * K}`,
};
const OUTPUT_DELTA_SYM = {
  sse: "2(y − t)/n", mse: "2(y − t)/(n·K)", mae: "sign(y − t)/(n·K)",
  huber: "clip(y − t, −δ, δ)/(n·K)", hinge: "(t·y < 1 ? −t : 0)/(n·K)",
};

/** delta of neuron j in layer l >= 1 for sample s: dL/dz, from the loss or from the layer above. */
export function deltaEquation(trace, l, j, s = 0) {
  const layer = trace.layers[l];
  const n = trace.targets.length;
  const delta = layer.delta[s][j];
  const act = layer.activation;
  const last = l === trace.layers.length - 1;
  const lines = [];
  if (last) {
    const name = trace.loss.name;
    const y = layer.a[s][j], t = trace.targets[s][j], K = layer.a[s].length;
    if (name === "binary_cross_entropy" && act === "sigmoid") {
      lines.push({ label: "output delta", text: `δ = ∂L/∂z = (y − t)/(n·K) = (${fmt(y)} − ${term(t)}) / ${n * K} = ${fmt(delta)}` });
    } else if (name === "cross_entropy" && act === "softmax") {
      lines.push({ label: "output delta", text: `δ = ∂L/∂z = (y − t)/n = (${fmt(y)} − ${term(t)}) / ${n} = ${fmt(delta)}` });
    } else if (OUTPUT_DELTA[name]) {
      const d = act === "linear" ? "" : ` · ${ACT_DERIV[act] || act + "'"}(${fmt(layer.z[s][j])})`;
      const dsym = act === "linear" ? "" : ` · ${act}'(z)`;
      lines.push({ label: "output delta", text: `δ = ∂L/∂y · f'(z) = ${OUTPUT_DELTA_SYM[name]}${dsym}` });
      lines.push({ label: "", text: `δ = ${OUTPUT_DELTA[name](y, t, n, K)}${d} = ${fmt(delta)}` });
    } else {
      lines.push({ label: "output delta", text: `δ = ∂L/∂z = ${fmt(delta)}` });
    }
  } else {
    const W = trace.update.weights_before[l];
    const above = trace.layers[l + 1].delta[s];
    const sum = above.map((dk, k) => `${term(W[j][k])}*${term(dk)}`).join(" + ");
    const d = act === "linear" ? "1" : `${ACT_DERIV[act] || act + "'"}(${fmt(layer.z[s][j])})`;
    lines.push({ label: "backpropagated", text: `δ = f'(z) · Σ_k w_k·δ_k = ${d} · (${sum}) = ${fmt(delta)}` });
  }
  return { title: "backward", lines };
}

/** Gradient of weight [l][i][j]: sum over the batch of a_i * delta_j (+ regularization). */
export function weightGradientEquation(trace, l, i, j) {
  const a = trace.layers[l].a, d = trace.layers[l + 1].delta;
  const g = trace.gradients.weights[l][i][j];
  const n = a.length;
  const prods = a.map((row, s) => `${term(row[i])}*${term(d[s][j])}`).join(" + ");
  const reg = trace.regularization_gradients && trace.regularization_gradients.weights
    ? trace.regularization_gradients.weights[l][i][j] : 0;
  const regText = reg ? ` + ${term(reg)} (${trace.regularization.name})` : "";
  const sym = n > 1 ? "Σ_s a_s·δ_s" : "a·δ";
  return {
    title: "gradient",
    lines: [{ label: n > 1 ? "sum over batch" : "gradient", text: `∂L/∂w = ${sym}${reg ? " + reg" : ""} = ${prods}${regText} = ${fmt(g)}` }],
  };
}

/** Gradient of bias [l][j]: sum over the batch of delta_j. */
export function biasGradientEquation(trace, l, j) {
  const d = trace.layers[l + 1].delta;
  const g = trace.gradients.biases[l][j];
  const sym = d.length > 1 ? "Σ_s δ_s" : "δ";
  return {
    title: "gradient",
    lines: [{ label: "bias", text: `∂L/∂b = ${sym} = ${d.map((r) => term(r[j])).join(" + ")} = ${fmt(g)}` }],
  };
}

function paramAt(update, key, kind, l, i, j) {
  const part = update[key];
  if (!part) return undefined;
  return kind === "weight" ? part.weights[l][i][j] : part.biases[l][j];
}

/** update[`${prefix}weights${suffix}`][l][i][j] (or the biases' [l][j]); undefined if absent. */
function pairAt(update, prefix, suffix, kind, l, i, j) {
  const part = update[`${prefix}${kind === "weight" ? "weights" : "biases"}${suffix}`];
  if (!part) return undefined;
  return kind === "weight" ? part[l][i][j] : part[l][j];
}

/**
 * The optimizer's update of one parameter (kind "weight": [l][i][j]; "bias": [l][j]),
 * with torch.optim's rule for sgd, momentum, nesterov, rmsprop, adam and adamw and
 * the state buffers before and after from the trace.
 */
export function updateEquation(trace, kind, l, i, j) {
  const u = trace.update;
  const hp = u.hyperparameters;
  const get = (obj) => (kind === "weight" ? obj.weights[l][i][j] : obj.biases[l][j]);
  const w = pairAt(u, "", "_before", kind, l, i, j);
  const w2 = pairAt(u, "", "_after", kind, l, i, j);
  const g = get(trace.gradients);
  const lr = hp.learning_rate;
  const wd = hp.weight_decay || 0;
  const sb = (name) => paramAt(u.state_before || {}, name, kind, l, i, j);
  const sa = (name) => paramAt(u.state_after || {}, name, kind, l, i, j);
  const lines = [];
  const t = u.step;
  const sym = kind === "weight" ? "w" : "b";
  // torch adds weight_decay*w to the gradient for every optimizer but adamw; the trace
  // holds the gradient the rule used (gradients_used) and adamw's decayed weight.
  const coupled = wd && u.optimizer !== "adamw";
  const gUsed = coupled ? paramAt(u, "gradients_used", kind, l, i, j) : g;
  const gs = term(gUsed);
  const gsym = coupled ? "g" : `∂L/∂${sym}`;
  if (coupled) {
    lines.push({ label: "weight decay", text: `g = ∂L/∂${sym} + λ·${sym} = ${fmt(g)} + ${fmt(wd)}*${term(w)} = ${fmt(gUsed)}` });
  }
  switch (u.optimizer) {
    case "sgd":
      lines.push({ label: "sgd", text: `${sym}' = ${sym} − lr·${gsym} = ${fmt(w)} − ${fmt(lr)}*${gs} = ${fmt(w2)}` });
      break;
    case "momentum": {
      const b0 = sb("momentum_buffer"), b1 = sa("momentum_buffer");
      const damp = hp.dampening ? `(1 − ${fmt(hp.dampening)})·` : "";
      lines.push(t === 1
        ? { label: "velocity", text: `v' = g (first step) = ${fmt(b1)}` }
        : { label: "velocity", text: `v' = μ·v + ${damp}g = ${fmt(hp.momentum)}*${term(b0)} + ${damp}${gs} = ${fmt(b1)}` });
      lines.push({ label: "momentum", text: `${sym}' = ${sym} − lr·v' = ${fmt(w)} − ${fmt(lr)}*${term(b1)} = ${fmt(w2)}` });
      break;
    }
    case "nesterov": {
      const b0 = sb("momentum_buffer"), b1 = sa("momentum_buffer");
      lines.push(t === 1
        ? { label: "velocity", text: `v' = g (first step) = ${fmt(b1)}` }
        : { label: "velocity", text: `v' = μ·v + g = ${fmt(hp.momentum)}*${term(b0)} + ${gs} = ${fmt(b1)}` });
      lines.push({ label: "nesterov", text: `${sym}' = ${sym} − lr·(g + μ·v') = ${fmt(w)} − ${fmt(lr)}*(${gs} + ${fmt(hp.momentum)}*${term(b1)}) = ${fmt(w2)}` });
      break;
    }
    case "rmsprop": {
      const s0 = sb("square_avg"), s1 = sa("square_avg");
      lines.push({ label: "square avg", text: `s' = α·s + (1 − α)·g² = ${fmt(hp.alpha)}*${term(s0)} + (1 − ${fmt(hp.alpha)})*${gs}² = ${fmt(s1)}` });
      lines.push({ label: "rmsprop", text: `${sym}' = ${sym} − lr·g/(√s' + ε) = ${fmt(w)} − ${fmt(lr)}*${gs}/(√${fmt(s1)} + ${fmt(hp.eps)}) = ${fmt(w2)}` });
      break;
    }
    case "adam":
    case "adamw": {
      const [b1, b2] = hp.betas;
      const m0 = sb("exp_avg"), m1 = sa("exp_avg"), v0 = sb("exp_avg_sq"), v1 = sa("exp_avg_sq");
      const decayed = u.optimizer === "adamw" ? pairAt(u, "decayed_", "", kind, l, i, j) : w;
      if (u.optimizer === "adamw") {
        lines.push({ label: "decoupled decay", text: `${sym} ← ${sym}·(1 − lr·λ) = ${fmt(w)}*(1 − ${fmt(lr)}*${fmt(wd)}) = ${fmt(decayed)}` });
      }
      lines.push({ label: "1st moment", text: `m' = β1·m + (1 − β1)·g = ${fmt(b1)}*${term(m0)} + (1 − ${fmt(b1)})*${gs} = ${fmt(m1)}` });
      lines.push({ label: "2nd moment", text: `v' = β2·v + (1 − β2)·g² = ${fmt(b2)}*${term(v0)} + (1 − ${fmt(b2)})*${gs}² = ${fmt(v1)}` });
      lines.push({
        label: u.optimizer,
        text: `${sym}' = ${sym} − lr·(m'/(1 − β1^t)) / (√(v'/(1 − β2^t)) + ε) = ${fmt(decayed)} − ${fmt(lr)}*(${fmt(m1)}/(1 − ${fmt(b1)}^${t})) / (√(${fmt(v1)}/(1 − ${fmt(b2)}^${t})) + ${fmt(hp.eps)}) = ${fmt(w2)}`,
      });
      break;
    }
    default:
      lines.push({ label: u.optimizer, text: `${sym}' = ${fmt(w2)} (was ${fmt(w)})` });
  }
  return { title: `update (step ${t})`, lines };
}
