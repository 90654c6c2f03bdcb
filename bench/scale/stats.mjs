/** Percentiles of a sample (nearest rank), and a millisecond histogram for samples too many to keep. */
export function percentiles(values, ps = [50, 99]) {
  if (values.length === 0) return Object.fromEntries([...ps.map((p) => [`p${p}`, null]), ["max", null]]);
  const sorted = Float64Array.from(values).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return Object.fromEntries([...ps.map((p) => [`p${p}`, at(p)]), ["max", sorted[sorted.length - 1]]]);
}

export class MsHistogram {
  #bins;
  #count = 0;
  #max = 0;

  constructor(maxMs = 120_000) {
    this.#bins = new Float64Array(maxMs + 1);
  }

  add(ms, weight = 1) {
    const v = Math.max(0, ms);
    this.#bins[Math.min(this.#bins.length - 1, Math.floor(v))] += weight;
    this.#count += weight;
    if (v > this.#max) this.#max = v;
  }

  get count() {
    return this.#count;
  }

  /** The upper edge of the bin holding percentile p (ms, 1 ms resolution). */
  percentile(p) {
    if (this.#count === 0) return null;
    const target = (p / 100) * this.#count;
    let seen = 0;
    for (let i = 0; i < this.#bins.length; i++) {
      seen += this.#bins[i];
      if (seen >= target && this.#bins[i] > 0) return Math.min(i + 1, this.#max);
    }
    return this.#max;
  }

  summary(ps = [50, 99]) {
    return Object.fromEntries([
      ...ps.map((p) => [`p${p}`, this.percentile(p)]),
      ["max", this.#count ? this.#max : null],
    ]);
  }
}

/** Peak and mean of per-second counts over the measured window. */
export function perSecond(bins) {
  let peak = 0;
  let sum = 0;
  for (const v of bins) {
    sum += v;
    if (v > peak) peak = v;
  }
  return { peak, mean: bins.length ? sum / bins.length : 0 };
}
