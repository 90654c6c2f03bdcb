/**
 * The deployment both designs run in: locations with their traffic and region, which of them
 * host Durable Objects, round trips between any two, the isolate slots of each location, and
 * the revocation log's replicas (new design). Built once per scenario from the seed.
 */
import { INTER_REGION_RTT_MS, REGIONS } from "./params.mjs";
import { aliasTable, createRng, normalQuantile, pairUniform } from "./rng.mjs";

const regionRtt = (a, b) => {
  if (a === b) return REGIONS.find((r) => r.id === a).intraMs;
  return INTER_REGION_RTT_MS[`${a}-${b}`] ?? INTER_REGION_RTT_MS[`${b}-${a}`];
};

export function buildWorld(p) {
  const rng = createRng(p.seed, "world");
  const n = p.locations;
  const raw = Array.from({ length: n }, (_, k) => 1 / (k + 1) ** p.locationZipf);
  const total = raw.reduce((s, w) => s + w, 0);
  const pickRegion = aliasTable(REGIONS.map((r) => r.traffic));
  const locations = raw.map((w, i) => ({
    index: i,
    share: w / total,
    reqPerS: (p.reqPerS * w) / total,
    region: REGIONS[pickRegion(rng)].id,
    hostsObjects: false,
  }));
  // The largest locations host objects, and every region has at least its largest one.
  for (const loc of locations.slice(0, p.doHostLocations)) loc.hostsObjects = true;
  for (const region of REGIONS) {
    const largest = locations.find((l) => l.region === region.id);
    if (largest) largest.hostsObjects = true;
  }
  const largestHost = new Map();
  for (const loc of locations) if (loc.hostsObjects && !largestHost.has(loc.region)) largestHost.set(loc.region, loc);
  for (const loc of locations) loc.objectHost = loc.hostsObjects ? loc.index : largestHost.get(loc.region).index;

  /** Round trip (ms) between two locations: fixed per pair, around its regions' median. */
  const rtt = (a, b) => {
    if (a === b) return p.sameLocationRttMs;
    const la = locations[a];
    const lb = locations[b];
    const factor = Math.exp(p.pairRttSigma * normalQuantile(pairUniform(p.seed, Math.min(a, b), Math.max(a, b))));
    return Math.max(2, regionRtt(la.region, lb.region) * factor);
  };

  // Isolate slots: a slot is one place an isolate runs (a machine); isolates come and go in it.
  const slots = [];
  for (const loc of locations) {
    const count = Math.min(p.maxIsolatesPerLocation, Math.max(1, Math.round(loc.reqPerS / p.reqPerIsolate)));
    const weights = Array.from({ length: count }, () => Math.exp(p.isolateShareSigma * rng.normal()));
    const sum = weights.reduce((s, w) => s + w, 0);
    loc.slots = weights.map((w) => {
      const slot = { index: slots.length, location: loc.index, reqPerS: (loc.reqPerS * w) / sum, incarnations: [] };
      slots.push(slot);
      return slot;
    });
    loc.pickSlot = aliasTable(weights);
  }

  // Revocation log replicas: regions by traffic, each replica in its region's largest host.
  const byTraffic = [...REGIONS].sort((x, y) => y.traffic - x.traffic).filter((r) => largestHost.has(r.id));
  const replicas = byTraffic.slice(0, Math.max(1, p.replicas)).map((r, i) => ({
    index: i,
    region: r.id,
    location: largestHost.get(r.id).index,
  }));
  for (const loc of locations) {
    const inRegion = replicas.find((r) => r.region === loc.region);
    loc.replica = (
      inRegion ?? replicas.reduce((best, r) => (rtt(loc.index, r.location) < rtt(loc.index, best.location) ? r : best))
    ).index;
  }

  const pickLocation = aliasTable(locations.map((l) => l.share));
  const byRegion = new Map(REGIONS.map((r) => [r.id, locations.filter((l) => l.region === r.id)]));
  const regionPickers = new Map(
    [...byRegion].filter(([, ls]) => ls.length > 0).map(([id, ls]) => [id, aliasTable(ls.map((l) => l.share))]),
  );
  /** A location of this region, by traffic. */
  const pickInRegion = (region, r) => byRegion.get(region)[regionPickers.get(region)(r)].index;
  const webhookOrigin = largestHost.get(p.webhookRegion) ?? locations[0];

  return {
    locations,
    slots,
    replicas,
    rtt,
    pickLocation,
    pickInRegion,
    regions: [...regionPickers.keys()],
    webhookOrigin: webhookOrigin.index,
  };
}

/** The incarnation of a slot alive at time t (index), or -1 when none is (the slot was idle then). */
export function incarnationAt(slot, t) {
  const list = slot.incarnations;
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].born <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && list[found].died > t ? found : -1;
}
