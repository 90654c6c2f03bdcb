/**
 * Today's design, as src/revocation/revocations.ts does it: every authenticated request checks
 * this isolate's memory of known revocations, then its "not revoked" memory of the session
 * (REVOCATION_NEGATIVE_MEMORY_MS from the answer's arrival), and on a miss asks the user's
 * SessionDirectory object, one RPC, no single flight (concurrent misses each ask). The object
 * lives in the Durable Object host nearest to where the user was first seen.
 *
 * Only a session's own requests touch its memory, so users are independent: a uniform sample
 * of users is simulated one by one, exactly, and its per-request figures are the population's;
 * the heaviest users of the whole population (order statistics of the rate distribution) are
 * simulated too, for the busiest object. Isolates are the world's (recent.mjs made their lives):
 * a request lands in a slot of its location and in the isolate alive there, whose memory it shares.
 */
import { TODAY } from "./params.mjs";
import { createRng } from "./rng.mjs";
import { MsHistogram, percentiles } from "./stats.mjs";
import { incarnationAt } from "./world.mjs";

/**
 * One isolate's "not revoked" and session-list memory, as the code keeps them: an answer is
 * remembered from when it arrives, for the layer's TTL; a lookup that starts while another is in
 * flight is a second lookup (no single flight in isRevoked).
 */
export class TodayMemory {
  constructor(negativeMs = TODAY.negativeMemoryMs, listMs = TODAY.listMemoryMs) {
    this.negativeMs = negativeMs;
    this.listMs = listMs;
    this.notRevoked = new Map();
    this.lists = new Map();
  }

  /** True when memory answers at time t; otherwise records the lookup that answers at t + rtt. */
  #check(map, key, t, rtt, ttl) {
    const e = map.get(key);
    if (e && e.from <= t && t < e.until) return true;
    const from = t + rtt;
    if (e && e.from > t) {
      e.until = Math.max(e.until, from + ttl);
    } else map.set(key, { from, until: from + ttl });
    return false;
  }

  revocationHit(sessionKey, t, rtt) {
    return this.#check(this.notRevoked, sessionKey, t, rtt, this.negativeMs);
  }

  listHit(userKey, t, rtt) {
    return this.#check(this.lists, userKey, t, rtt, this.listMs);
  }
}

/**
 * The local bench's runs (docs/benchmarks.md): one isolate, `users` × `sessionsPerUser` tokens
 * (a user's sessions next to each other, as setUp() signs them in), every request reading the
 * session list and checking revocation. `connections` send in turn, each through the whole token
 * list from its own offset, one request after another (autocannon's saturated runs: 32); the
 * fixed-rate runs are one open loop over the list in order (1).
 */
export function localBench({
  rate,
  connections = 1,
  users = 200,
  sessionsPerUser = 2,
  durationS = 5,
  warmupS = 2,
  rttMs = 1,
}) {
  const memory = new TodayMemory();
  const tokens = users * sessionsPerUser;
  let requests = 0;
  let lookups = 0;
  let listReads = 0;
  const perConnection = Math.round((rate * (warmupS + durationS)) / connections);
  const events = [];
  for (let k = 0; k < connections; k++) {
    const offset = Math.floor((k * tokens) / connections);
    for (let j = 0; j < perConnection; j++) {
      events.push({ t: ((j + k / connections) * connections * 1000) / rate, session: (offset + j) % tokens });
    }
  }
  events.sort((a, b) => a.t - b.t);
  for (const { t, session } of events) {
    const user = Math.floor(session / sessionsPerUser);
    const revocationHit = memory.revocationHit(session, t, rttMs);
    const listHit = memory.listHit(user, t, rttMs);
    if (t < warmupS * 1000) continue;
    requests++;
    if (!revocationHit) lookups++;
    if (!listHit) listReads++;
  }
  return {
    rate,
    connections,
    requests,
    directoryLookupsPerRequest: lookups / requests,
    listReadsPerRequest: listReads / requests,
    storeReadsPerRequest: (lookups + listReads) / requests,
  };
}

/** The mean of min(X, cap) for a Pareto(xm = 1, alpha) X. */
const cappedParetoMean = (alpha, cap) => alpha / (alpha - 1) - cap ** (1 - alpha) / (alpha - 1);

/** The scale s such that users with rate min(s·X, maxUserReqPerS) send reqPerS together. */
function rateScale(p) {
  const mean = p.reqPerS / p.users;
  let lo = 1e-12;
  let hi = p.maxUserReqPerS;
  for (let k = 0; k < 200; k++) {
    const s = Math.sqrt(lo * hi);
    const m = s * cappedParetoMean(p.userRateAlpha, Math.max(1, p.maxUserReqPerS / s));
    if (m > mean) hi = s;
    else lo = s;
  }
  return Math.sqrt(lo * hi);
}

const BURN_IN_MS = 600_000;

/** One user's requests over the simulated time: visits of page loads (bursts), heavy-tailed gaps. */
function userRequests(user, world, p, rng, start, end) {
  const gapMeanMs = p.gapMedianS * 1000 * Math.exp((p.gapSigma * p.gapSigma) / 2);
  const perVisit = p.burstMean * p.burstsPerVisitMean;
  const visitMs = (p.burstsPerVisitMean - 1) * gapMeanMs;
  const cycleMs = (perVisit / user.rate) * 1000;
  const gapScale = Math.min(1, cycleMs / Math.max(visitMs, 1));
  const offMeanMs = Math.max(0, cycleMs - visitMs * gapScale);
  const homeRegion = world.locations[user.home].region;
  const others = world.regions.filter((r) => r !== homeRegion);
  const out = [];
  // Start near steady state: inside a visit with the share of time visits take, else in an idle
  // gap whose rest is exponential (memoryless), so idle users cost no draws before the window.
  // A visit in progress is longer than an average one (inspection paradox): users with idle gaps
  // start BURN_IN_MS earlier, so the visit in progress when the simulation starts is a real one.
  const visitLength = visitMs * gapScale;
  const from = offMeanMs > 0 ? start - BURN_IN_MS : start;
  let t =
    rng.next() < visitLength / (visitLength + offMeanMs) ? from - rng.next() * visitLength : from + rng.exp(offMeanMs);
  let visit = 0;
  while (t < end) {
    const roll = rng.next();
    const location =
      roll < p.otherRegionShare && others.length
        ? world.pickInRegion(others[rng.int(others.length)], rng)
        : roll < p.otherRegionShare + p.otherLocationShare
          ? world.pickInRegion(homeRegion, rng)
          : user.home;
    const session = rng.int(user.sessions);
    const bursts = 1 + rng.geometric(p.burstsPerVisitMean - 1);
    let tb = t;
    for (let b = 0; b < bursts && tb < end; b++) {
      const size = 1 + rng.geometric(p.burstMean - 1);
      const burst = [];
      for (let k = 0; k < size; k++) burst.push(tb + rng.next() * p.burstSpreadMs);
      burst.sort((x, y) => x - y);
      for (const at of burst) if (at >= start && at < end) out.push({ at, session, location, visit });
      if (b + 1 < bursts) tb += rng.lognormal(p.gapMedianS * 1000 * gapScale, p.gapSigma);
    }
    visit++;
    t = tb + rng.exp(offMeanMs);
  }
  return out;
}

export function simulateToday(world, p, { revocations }) {
  const rng = createRng(p.seed, "today");
  const start = -p.warmupS * 1000;
  const measureEnd = p.windowS * 1000;
  const seconds = Math.ceil(p.windowS);
  const scale = rateScale(p);
  const jitter = () => Math.exp(p.callJitterSigma * rng.normal());
  const lookupLatency = new MsHistogram(10_000);
  const sessions = [];
  let requests = 0;
  let lookups = 0;
  let listReads = 0;
  let verifications = 0;
  let statusMisses = 0;
  let timeouts = 0;
  let busiest = { peak: 0, mean: 0, rate: 0 };

  const drawUser = (rate) => {
    const home = world.pickLocation(rng);
    return {
      rate,
      home,
      objectAt: world.locations[home].objectHost,
      sessions: 1 + rng.poisson(p.sessionsPerUserMean - 1),
    };
  };

  const simulateUser = (user, sampled) => {
    const reqs = userRequests(user, world, p, rng, start, measureEnd + 2_000);
    const memory = new TodayMemory();
    const verified = new Set();
    const status = new Map();
    const perSecond = new Float64Array(seconds);
    const phase = Array.from({ length: user.sessions }, () => rng.next() * p.tokenRefreshS * 1000);
    const mine = Array.from({ length: user.sessions }, () => ({ times: [], lookups: [], user }));
    let slot = -1;
    let visit = -1;
    for (const req of reqs) {
      const loc = world.locations[req.location];
      if (req.visit !== visit || rng.next() >= p.connectionAffinity) slot = loc.slots[loc.pickSlot(rng)].index;
      visit = req.visit;
      const slotRef = world.slots[slot];
      const inc = incarnationAt(slotRef, req.at);
      const isolate = slot * 4096 + inc + 1;
      const died = inc >= 0 ? slotRef.incarnations[inc].died : req.at + p.idleEvictS * 1000;
      const sessionKey = isolate * 64 + Math.min(req.session, 63);
      const measured = req.at >= 0 && req.at < measureEnd;
      const rtt = world.rtt(req.location, user.objectAt) * jitter() + p.objectServiceMs;
      const s = mine[req.session];
      s.times.push(req.at);
      if (!memory.revocationHit(sessionKey, req.at, rtt)) {
        s.lookups.push({ isolate, read: req.at + rtt / 2, from: req.at + rtt, died });
        if (measured) {
          lookups += sampled ? 1 : 0;
          perSecond[Math.floor(req.at / 1000)]++;
          if (sampled) lookupLatency.add(rtt);
          if (rtt > TODAY.directoryTimeoutMs && sampled) timeouts++;
        }
      }
      if (!measured || !sampled) continue;
      requests++;
      if (rng.next() < p.listRouteShare && !memory.listHit(isolate, req.at, p.sameLocationRttMs)) listReads++;
      const token = Math.floor((req.at + phase[req.session]) / (p.tokenRefreshS * 1000));
      const tokenKey = sessionKey * 65_536 + (token % 65_536);
      if (!verified.has(tokenKey)) {
        verified.add(tokenKey);
        verifications++;
      }
      const known = status.get(sessionKey);
      if (known === undefined || req.at >= known) {
        status.set(sessionKey, req.at + TODAY.sessionStatusMemoryMs);
        statusMisses++;
      }
    }
    let peak = 0;
    let sum = 0;
    for (const v of perSecond) {
      sum += v;
      peak = Math.max(peak, v);
    }
    if (peak > busiest.peak) busiest = { peak, mean: sum / seconds, rate: user.rate };
    if (sampled) sessions.push(...mine);
  };

  // The uniform sample.
  for (let u = 0; u < p.sampleUsers; u++) {
    const x = 1 / (1 - rng.next()) ** (1 / p.userRateAlpha);
    simulateUser(drawUser(Math.min(scale * x, p.maxUserReqPerS)), true);
  }
  // The heaviest users of the population: X(k) = (users / Γk)^(1/α), Γk a sum of k unit exponentials.
  let gamma = 0;
  for (let k = 1; k <= p.topUsers; k++) {
    gamma += rng.exp(1);
    simulateUser(drawUser(Math.min(scale * (p.users / gamma) ** (1 / p.userRateAlpha), p.maxUserReqPerS)), false);
  }

  const bound = todayBound(world, p, sessions, revocations, rng);
  return {
    sampledUsers: p.sampleUsers,
    requests,
    perRequest: {
      directoryLookups: lookups / requests,
      listReads: listReads / requests,
      tokenVerifications: verifications / requests,
      statusMisses: statusMisses / requests,
    },
    objectCallsPerS: (lookups / requests) * p.reqPerS,
    lookupLatencyMs: lookupLatency.summary([50, 99]),
    lookupsOverDeadline: timeouts / Math.max(lookups, 1),
    busiestObject: busiest,
    // Per isolate: "not revoked" holds at most the sessions it looked up in the last second.
    memory: notRevokedMemory(world),
    bound,
    meanUserReqPerS: p.reqPerS / p.users,
  };
}

/** Bytes of an isolate's "not revoked" memory, at most: one entry per request of its last second. */
function notRevokedMemory(world) {
  const busiest = world.slots.reduce((m, s) => Math.max(m, s.reqPerS), 0);
  const entries = Math.ceil((busiest * TODAY.negativeMemoryMs) / 1000);
  return { entries, bytes: entries * (32 + 1 + TODAY.entryOverheadBytes) };
}

/**
 * For each sampled revocation, a session whose token is still live (a request in the last token
 * lifetime) is revoked at t0; its object has it at w. Any isolate would accept the session until
 * w, less the shortest trip to the object; an isolate that remembers "not revoked" from a lookup
 * read before w accepts it until that memory expires, a later lookup answers "revoked", or it dies.
 */
function todayBound(world, p, sessions, revocations, rng) {
  const live = TODAY.tokenLifetimeS * 1000;
  const worst = [];
  for (const rev of revocations) {
    let session = null;
    for (let tries = 0; tries < 2_000 && !session; tries++) {
      const s = sessions[rng.int(sessions.length)];
      const last = lastBefore(s.times, rev.t0);
      if (last !== null && rev.t0 - last < live) session = s;
    }
    if (!session) continue;
    const objectAt = session.user.objectAt;
    const writer = rev.webhook ? world.webhookOrigin : session.user.home;
    const w = rev.t0 + (world.rtt(writer, objectAt) * rev.jitter) / 2;
    let exposure = Math.max(0, w - rev.t0 - p.sameLocationRttMs / 2);
    const byIsolate = new Map();
    for (const l of session.lookups) {
      if (l.from > w + 5_000) break;
      let list = byIsolate.get(l.isolate);
      if (!list) {
        list = [];
        byIsolate.set(l.isolate, list);
      }
      list.push(l);
    }
    for (const list of byIsolate.values()) {
      let before = null;
      let after = null;
      for (const l of list) {
        if (l.read < w) before = l;
        else if (before && !after) after = l;
      }
      if (!before) continue;
      const until = Math.min(
        before.from + TODAY.negativeMemoryMs,
        after ? after.from : Number.POSITIVE_INFINITY,
        before.died,
      );
      exposure = Math.max(exposure, until - rev.t0);
    }
    worst.push(exposure);
  }
  return { perRevocation: percentiles(worst, [50, 99]), revocations: worst.length };
}

function lastBefore(times, t) {
  let lo = 0;
  let hi = times.length - 1;
  let found = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) {
      found = times[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
