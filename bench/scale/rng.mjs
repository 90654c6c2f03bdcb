/**
 * Seeded randomness for the scale model: one generator (sfc32, 128-bit state) per stream, so
 * the same seed gives the same figures on every machine, and the distributions the model
 * draws from. Streams are derived from the seed and a name, so adding a draw to one part of
 * the model does not shift the numbers of another.
 */

/** 32-bit string hash (FNV-1a), to derive a stream's state from the seed and a name. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A uniform generator in [0, 1) with the distributions the model uses. */
export function createRng(seed, stream = "") {
  let a = fnv1a(`${seed}:a:${stream}`);
  let b = fnv1a(`${seed}:b:${stream}`);
  let c = fnv1a(`${seed}:c:${stream}`);
  let d = fnv1a(`${seed}:d:${stream}`) | 1;
  const next = () => {
    // sfc32
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  let spare = null;
  const normal = () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * next();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
  return {
    next,
    normal,
    /** Exponential with this mean. */
    exp: (mean) => -Math.log(1 - next()) * mean,
    /** Log-normal with this median and log-space standard deviation. */
    lognormal: (median, sigma) => median * Math.exp(sigma * normal()),
    /** 0, 1, 2, … with this mean (Knuth for small means, normal approximation above 50). */
    poisson: (mean) => {
      if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
      const limit = Math.exp(-mean);
      let k = 0;
      let p = next();
      while (p > limit) {
        k++;
        p *= next();
      }
      return k;
    },
    /** 0, 1, 2, … geometric with this mean. */
    geometric: (mean) => (mean <= 0 ? 0 : Math.floor(Math.log(1 - next()) / Math.log(mean / (mean + 1)))),
    int: (n) => Math.floor(next() * n),
  };
}

/**
 * Picks index i with probability weights[i] / sum in O(1) (Walker's alias method). The table
 * is built once per weight vector (locations by traffic, isolates by their share).
 */
export function aliasTable(weights) {
  const n = weights.length;
  const sum = weights.reduce((s, w) => s + w, 0);
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const scaled = weights.map((w) => (w * n) / sum);
  const small = [];
  const large = [];
  scaled.forEach((w, i) => {
    (w < 1 ? small : large).push(i);
  });
  while (small.length && large.length) {
    const s = small.pop();
    const l = large.pop();
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1;
    (scaled[l] < 1 ? small : large).push(l);
  }
  for (const i of [...small, ...large]) prob[i] = 1;
  return (rng) => {
    const i = Math.floor(rng.next() * n);
    return rng.next() < prob[i] ? i : alias[i];
  };
}

/** A fixed pseudo-random number in [0, 1) for a pair of integers (a location pair's distance factor). */
export function pairUniform(seed, x, y) {
  let h = fnv1a(`${seed}`) ^ Math.imul(x + 1, 0x9e3779b1) ^ Math.imul(y + 1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Standard normal quantile (Acklam's rational approximation), for fixed per-pair factors. */
export function normalQuantile(p) {
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  const a = [
    -39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472, 2.50662827745924,
  ];
  const b = [-54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857];
  const c = [
    -0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373, 4.37466414146497, 2.93816398269878,
  ];
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742];
  const lo = 0.02425;
  if (q < lo) {
    const r = Math.sqrt(-2 * Math.log(q));
    return (
      (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
      ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
    );
  }
  if (q > 1 - lo) return -normalQuantile(1 - q);
  const r = q - 0.5;
  const s = r * r;
  return (
    ((((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r) /
    (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1)
  );
}
