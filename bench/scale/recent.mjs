/**
 * The new design, "recent revocations per location", simulated isolate by isolate.
 *
 * Every isolate holds the whole recent set (the revocations of the last RECENT_WINDOW_MS) and
 * refreshes it when it is older than pollMs (jittered), single flight: the first request that
 * finds it too old starts the refresh; requests keep using the set they have while it runs,
 * unless it is older than maxStaleMs, then they wait for it. A refresh reads the location's
 * cache (Cache API, one per data center); on a miss it asks the location's log replica and
 * puts the answer in the cache. Nothing coordinates isolates of one location: every isolate
 * that looks before the first put has landed misses, and asks the replica itself.
 *
 * Requests between refreshes make no I/O, so they are not events: an isolate's requests are a
 * Poisson stream at its share of the location's traffic, and the first one after the set became
 * due is drawn directly (memoryless), which keeps the simulation proportional to refreshes, not
 * requests. Isolates die (exponential lifetime, idle eviction) and cold ones start empty: their
 * first request waits for the whole set.
 *
 * The revocation bound is then measured for every isolate that ever lived: for a revocation
 * issued at t0, reaching the isolate's replica at w, an isolate accepts the session until its
 * last snapshot read before w stops being used (replaced, too old, or the isolate gone).
 */
import { EventHeap } from "./heap.mjs";
import { RECENT_WINDOW_MS } from "./params.mjs";
import { createRng } from "./rng.mjs";
import { MsHistogram, percentiles, perSecond } from "./stats.mjs";

/**
 * The location's cache: entries by key, each usable from when its put landed. "bucket": the key
 * is floor(now / ttl), an entry serves the rest of its bucket. "ttl": one key, an entry is fresh
 * while now − its replica read time < ttl (the time is stamped in the entry: Cache-Control's
 * max-age counts whole seconds, so it only has to outlive the stamp).
 */
class LocationCache {
  #mode;
  #ttl;
  #entries = new Map();
  #oldest = 0;

  constructor(mode, ttlMs) {
    if (mode !== "bucket" && mode !== "ttl") throw new Error(`cacheMode must be "bucket" or "ttl", not ${mode}`);
    this.#mode = mode;
    this.#ttl = ttlMs;
  }

  key(t) {
    return this.#mode === "bucket" ? Math.floor(t / this.#ttl) : 0;
  }

  /** The freshest entry usable at t, or null. */
  lookup(t) {
    const list = this.#entries.get(this.key(t));
    if (!list) return null;
    let best = null;
    for (const e of list) {
      if (e.ready <= t && (this.#mode === "bucket" || t - e.asOf < this.#ttl) && (!best || e.asOf > best.asOf))
        best = e;
    }
    return best;
  }

  /**
   * Which episode a miss at t belongs to: misses of one key with no put landed between them are
   * one entry missed by several isolates at once.
   */
  episode(t) {
    let landed = Number.NEGATIVE_INFINITY;
    for (const e of this.#entries.get(this.key(t)) ?? []) if (e.ready <= t && e.ready > landed) landed = e.ready;
    return `${this.key(t)}:${landed}`;
  }

  put(key, ready, asOf) {
    let list = this.#entries.get(key);
    if (!list) {
      list = [];
      this.#entries.set(key, list);
    }
    // "ttl": a put replaces what was there once it lands; keep the few that may still be ahead of a lookup.
    if (this.#mode === "ttl") {
      const horizon = ready - 2 * this.#ttl;
      for (let i = list.length - 1; i >= 0; i--) if (list[i].ready < horizon) list.splice(i, 1);
    }
    list.push({ ready, asOf });
    if (this.#mode === "bucket" && key - this.#oldest > 4) {
      for (const k of this.#entries.keys()) if (k < key - 2) this.#entries.delete(k);
      this.#oldest = key - 2;
    }
  }
}

/**
 * Simulates every location; fills each slot's `incarnations` (born, died, snapshots) and returns
 * the counts of the measured window [0, windowS).
 */
export function simulateRecent(world, p) {
  const rng = createRng(p.seed, "recent");
  const start = -Math.min(p.warmupS, p.isolateWarmupS) * 1000;
  const measureEnd = p.windowS * 1000;
  const end = measureEnd + p.maxStaleMs + 5_000;
  const seconds = Math.ceil(p.windowS);
  const replicaReads = world.replicas.map(() => new Float64Array(seconds));
  const inWindow = (t) => t >= 0 && t < measureEnd;
  const jitter = () => Math.exp(p.callJitterSigma * rng.normal());
  const counts = {
    refreshes: 0,
    cacheReads: 0,
    cacheHits: 0,
    objectCalls: 0,
    waitedRequests: 0,
    coldStarts: 0,
    deltaEntries: 0,
  };
  const waits = new MsHistogram(10_000);
  const missesPerEntry = new Map();

  for (const loc of world.locations) {
    const cache = new LocationCache(p.cacheMode, p.cacheTtlMs);
    const replica = world.replicas[loc.replica];
    const replicaRtt = world.rtt(loc.index, replica.location);
    const heap = new EventHeap(loc.slots.length);
    const state = loc.slots.map((slot) => ({
      slot,
      rate: slot.reqPerS / 1000,
      inc: null,
      lastRequest: Number.NEGATIVE_INFINITY,
      due: Number.NEGATIVE_INFINITY,
    }));
    state.forEach((s, i) => {
      heap.push(start + rng.exp(1 / s.rate), i);
    });

    while (heap.size > 0 && heap.peekTime() < end) {
      const t = heap.peekTime();
      const i = heap.pop();
      const s = state[i];
      let at = t;
      // The isolate this request reaches: the live one, or a cold one that starts now.
      if (s.inc) {
        const idleEnd = Math.max(s.lastRequest, s.due) + p.idleEvictS * 1000;
        if (at >= s.inc.lifetimeEnd || at >= idleEnd) {
          const died = Math.min(s.inc.lifetimeEnd, idleEnd);
          s.inc.died = died;
          // A cold isolate starts with the first request after the death: t itself, unless the death
          // came while requests were still flowing (before the set was due), then one interarrival later.
          if (died < s.due) at = Math.min(t, died + rng.exp(1 / s.rate));
          s.inc = null;
        }
      }
      if (!s.inc) {
        s.inc = { born: at, died: Number.POSITIVE_INFINITY, lifetimeEnd: at + rng.exp(p.isolateLifetimeS * 1000) };
        s.inc.c = [];
        s.inc.r = [];
        s.slot.incarnations.push(s.inc);
        if (inWindow(at)) counts.coldStarts++;
      }
      s.lastRequest = at;
      const inc = s.inc;
      const last = inc.r.length ? inc.r[inc.r.length - 1] : Number.NEGATIVE_INFINITY;
      const blocking = at - last > p.maxStaleMs;

      // The refresh: the location's cache, else the replica.
      const measured = inWindow(at);
      const entry = cache.lookup(at);
      let done;
      let asOf;
      if (entry) {
        done = at + p.cacheReadMs * jitter();
        asOf = entry.asOf;
        if (measured) counts.cacheHits++;
      } else {
        const trip = replicaRtt * jitter();
        const read = at + p.cacheReadMs + trip / 2;
        done = at + p.cacheReadMs + trip + p.objectServiceMs;
        asOf = read;
        if (measured) {
          counts.objectCalls++;
          const episode = `${loc.index}:${cache.episode(at)}`;
          missesPerEntry.set(episode, (missesPerEntry.get(episode) ?? 0) + 1);
        }
        cache.put(cache.key(at), done + p.cachePutMs * jitter(), asOf);
        if (read >= 0 && read < measureEnd) replicaReads[loc.replica][Math.floor(read / 1000)]++;
      }
      if (measured) {
        counts.refreshes++;
        counts.cacheReads++;
        // Requests that wait: the one that found the set too old and those arriving while it is fetched;
        // after a background refresh, those arriving once the set passed maxStaleMs before it landed.
        const waitFrom = blocking ? at : Math.max(at, last + p.maxStaleMs);
        if (done > waitFrom) {
          const waiting = (blocking ? 1 : 0) + s.rate * (done - waitFrom);
          counts.waitedRequests += waiting;
          waits.add(done - waitFrom, waiting);
        }
      }
      const installed = Math.max(last, asOf);
      if (installed > last) {
        if (measured && Number.isFinite(last)) counts.deltaEntries += ((installed - last) / 1000) * p.revocationsPerS;
        inc.c.push(done);
        inc.r.push(installed);
      }
      s.due = installed + p.pollMs * (1 - p.pollJitter * rng.next());
      heap.push(Math.max(done, s.due) + rng.exp(1 / s.rate), i);
    }
    for (const s of state) if (s.inc) s.inc.died = Math.min(s.inc.died, end);
  }

  const requests = p.reqPerS * p.windowS;
  const misses = [...missesPerEntry.values()];
  return {
    requests,
    counts,
    perRequest: {
      cacheReads: counts.cacheReads / requests,
      objectCalls: counts.objectCalls / requests,
      waited: counts.waitedRequests / requests,
    },
    cacheHitRatio: counts.cacheReads ? counts.cacheHits / counts.cacheReads : 0,
    objectCallsPerS: counts.objectCalls / p.windowS,
    cacheReadsPerS: counts.cacheReads / p.windowS,
    objectCallsPerMissedEntry: percentiles(misses, [50, 99]),
    waitMs: waits.summary(),
    replicaReads,
  };
}

/** Revocation arrivals (Poisson at revocationsPerS) over the simulated time, and the recent set's size. */
export function revocationStream(p) {
  const rng = createRng(p.seed, "revocations");
  const start = -p.warmupS * 1000;
  const end = p.windowS * 1000;
  const times = [];
  for (let t = start + rng.exp(1000 / p.revocationsPerS); t < end; t += rng.exp(1000 / p.revocationsPerS))
    times.push(t);
  // The set an isolate holds: revocations of the last RECENT_WINDOW_MS, at its largest.
  let peak = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] > RECENT_WINDOW_MS) lo++;
    if (times[hi] >= 0) peak = Math.max(peak, hi - lo + 1);
  }
  const seconds = Math.ceil(p.windowS);
  const writes = new Float64Array(seconds);
  for (const t of times) if (t >= 0) writes[Math.floor(t / 1000)]++;
  return { times, peakSetEntries: peak, writesPerSecond: writes };
}

/** The revocations whose bound is measured: time, where they were issued, and when each replica has them. */
export function sampleRevocations(world, p, count, stream = "bound") {
  const rng = createRng(p.seed, stream);
  const horizon = p.windowS * 1000 - p.maxStaleMs - 1_000;
  const out = [];
  for (let k = 0; k < count; k++) {
    const t0 = rng.next() * horizon;
    const webhook = rng.next() < p.webhookShare;
    const writer = webhook ? world.webhookOrigin : world.pickLocation(rng);
    out.push({ t0, webhook, writer, jitter: Math.exp(p.callJitterSigma * rng.normal()) });
  }
  return out.sort((a, b) => a.t0 - b.t0);
}

/**
 * For each sampled revocation, the time from t0 until no isolate anywhere would accept the
 * session (max over every isolate), and the same per isolate alive at t0.
 */
export function recentBound(world, p, revocations) {
  // When each replica has it: the writer appends to all replicas at once.
  const arrivals = world.replicas.map((replica) =>
    revocations.map((rev) => rev.t0 + (world.rtt(rev.writer, replica.location) * rev.jitter) / 2),
  );
  const worst = new Float64Array(revocations.length);
  const perIsolate = new MsHistogram(10_000);
  for (const slot of world.slots) {
    const w = arrivals[world.locations[slot.location].replica];
    for (const inc of slot.incarnations) {
      const { c, r, born, died } = inc;
      if (r.length === 0) continue;
      let j = -1;
      for (let k = 0; k < revocations.length; k++) {
        const t0 = revocations[k].t0;
        if (died <= t0) break;
        const wk = w[k];
        // Arrival times are not sorted exactly like t0 (the jitter): walk j both ways.
        while (j + 1 < r.length && r[j + 1] < wk) j++;
        while (j >= 0 && r[j] >= wk) j--;
        let exposure = 0;
        if (j >= 0) {
          const replaced = j + 1 < c.length ? c[j + 1] : Number.POSITIVE_INFINITY;
          const until = Math.min(replaced, r[j] + p.maxStaleMs, died);
          exposure = Math.max(0, until - t0);
        }
        if (exposure > worst[k]) worst[k] = exposure;
        if (born <= t0) perIsolate.add(exposure);
      }
    }
  }
  return { perRevocation: percentiles(worst, [50, 99]), perIsolate: perIsolate.summary([50, 99]) };
}

/** The busiest replica: its reads and the appends (every revocation is written to every replica). */
export function replicaLoad(world, sim, stream) {
  return world.replicas.map((replica, i) => {
    const total = sim.replicaReads[i].map((reads, s) => reads + stream.writesPerSecond[s]);
    return {
      region: replica.region,
      locations: world.locations.filter((l) => l.replica === i).length,
      reads: perSecond(sim.replicaReads[i]),
      total: perSecond(total),
    };
  });
}
