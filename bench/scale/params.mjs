/**
 * Every parameter of the scale model, with its default and where the default comes from.
 * Sources are listed in docs/benchmarks.md ("Scale model"); "assumption" marks a figure no
 * public document gives, chosen to be plausible and swept or easy to change.
 *
 * Constants of today's design are not parameters: they are read from the gateway's source
 * (code.mjs), so the model cannot drift from the code.
 */
import { readCodeConstants } from "./code.mjs";

const code = readCodeConstants();

/**
 * Durable Objects location hints (developers.cloudflare.com/durable-objects/reference/data-location/)
 * used as the model's regions: the share of the deployment's traffic each carries (assumption:
 * roughly where Internet users are) and the median round trip between two locations inside it.
 */
export const REGIONS = [
  { id: "enam", traffic: 0.2, intraMs: 25 },
  { id: "weur", traffic: 0.24, intraMs: 15 },
  { id: "apac", traffic: 0.2, intraMs: 50 },
  { id: "wnam", traffic: 0.12, intraMs: 25 },
  { id: "eeur", traffic: 0.08, intraMs: 25 },
  { id: "sam", traffic: 0.06, intraMs: 40 },
  { id: "me", traffic: 0.04, intraMs: 35 },
  { id: "oc", traffic: 0.03, intraMs: 25 },
  { id: "afr", traffic: 0.03, intraMs: 50 },
];

/**
 * Median round trip (ms) between two regions, rounded from public inter-city ping tables
 * (WonderNetwork; e.g. New York–Paris ≈ 78 ms, Fremont–Milan ≈ 170 ms, Sydney–Paris ≈ 345 ms).
 */
export const INTER_REGION_RTT_MS = {
  "enam-weur": 85,
  "enam-apac": 200,
  "enam-wnam": 70,
  "enam-eeur": 110,
  "enam-sam": 120,
  "enam-me": 160,
  "enam-oc": 210,
  "enam-afr": 220,
  "weur-apac": 180,
  "weur-wnam": 145,
  "weur-eeur": 35,
  "weur-sam": 190,
  "weur-me": 90,
  "weur-oc": 270,
  "weur-afr": 160,
  "apac-wnam": 130,
  "apac-eeur": 170,
  "apac-sam": 300,
  "apac-me": 120,
  "apac-oc": 110,
  "apac-afr": 280,
  "wnam-eeur": 170,
  "wnam-sam": 170,
  "wnam-me": 210,
  "wnam-oc": 150,
  "wnam-afr": 280,
  "eeur-sam": 220,
  "eeur-me": 70,
  "eeur-oc": 290,
  "eeur-afr": 190,
  "sam-me": 280,
  "sam-oc": 300,
  "sam-afr": 330,
  "me-oc": 230,
  "me-afr": 150,
  "oc-afr": 350,
};

export const DEFAULTS = {
  seed: 1,

  // --- the deployment -------------------------------------------------------------------
  /** Users with a Clerk account that uses the gateway. */
  users: 10_000_000,
  /** Authenticated requests per second, all locations together. */
  reqPerS: 100_000,
  /** Cloudflare locations serving them (cloudflare.com/network lists 330+ cities). */
  locations: 300,
  /** Traffic of the k-th largest location ∝ 1 / k^zipf (assumption: a few metros carry most). */
  locationZipf: 0.8,
  /**
   * Locations that host Durable Objects: the largest ones (assumption; objects run in a subset
   * of data centers, see where.durableobjects.live). A user's object lives in the host nearest to
   * where the user was first seen: the home location if it hosts, else its region's largest.
   */
  doHostLocations: 40,

  // --- isolates -------------------------------------------------------------------------
  /**
   * One isolate per this many req/s of a location's traffic (assumption: Cloudflare spreads a
   * location's requests over many machines, each running its own isolate of the Worker, and
   * publishes no count). Swept. At least 1 per location, at most maxIsolatesPerLocation.
   */
  reqPerIsolate: 20,
  maxIsolatesPerLocation: 1_000,
  /** Spread of the traffic isolates of one location get (log-normal sigma; assumption). */
  isolateShareSigma: 0.5,
  /** Mean life of an isolate (exponential): deploys, machine rotation, memory pressure (assumption). */
  isolateLifetimeS: 300,
  /** An isolate with no request for this long is gone (assumption); the next request starts a cold one. */
  idleEvictS: 60,

  // --- distances ------------------------------------------------------------------------
  /** Round trip to an object in the same data center (RPC overhead; assumption). */
  sameLocationRttMs: 1,
  /** Per-pair spread around a region's or region pair's median (log-normal sigma). */
  pairRttSigma: 0.35,
  /** Per-call jitter (log-normal sigma). */
  callJitterSigma: 0.1,
  /** Time an object spends answering one call (one indexed SQLite read). */
  objectServiceMs: 0.5,
  /** Cache API lookup and put in the isolate's data center (assumption: not documented). */
  cacheReadMs: 2,
  cachePutMs: 5,
  /** A Durable Object's soft limit (developers.cloudflare.com/durable-objects/platform/limits/). */
  objectSoftLimitPerS: 1_000,

  // --- users and their requests --------------------------------------------------------
  /** Sessions (devices) per user: 1 + Poisson(mean − 1). */
  sessionsPerUserMean: 1.6,
  /** Per-user request rate: Pareto with this shape (heavy tail), capped, scaled to reqPerS / users. */
  userRateAlpha: 1.3,
  /** No user sends more than this (assumption: a human with several tabs, or a polling integration). */
  maxUserReqPerS: 10,
  /** Requests per page load: 1 + geometric(mean − 1); they leave together, within burstSpreadMs. */
  burstMean: 3,
  burstSpreadMs: 300,
  /** Think time between page loads of one visit: log-normal (median, sigma): heavy-tailed. */
  gapMedianS: 10,
  gapSigma: 1,
  /** Page loads per visit: 1 + geometric(mean − 1). */
  burstsPerVisitMean: 8,
  /** A visit comes from another location of the user's region / another region (roaming, travel). */
  otherLocationShare: 0.1,
  otherRegionShare: 0.01,
  /** A request of a visit reaches the same isolate as the visit's previous one (kept-alive connection). */
  connectionAffinity: 0.9,
  /** clerk-js asks Clerk for a fresh session token this often while a tab is open. */
  tokenRefreshS: 50,
  /** Share of requests that read the session list (the gateway's device routes); calibration only. */
  listRouteShare: 0,

  // --- revocations ----------------------------------------------------------------------
  /** Sessions revoked or ended per second (revokes through the gateway and webhooks). */
  revocationsPerS: 100,
  /** Share that arrive as a Clerk webhook (sign-outs through clerk-js reach Clerk, then the webhook). */
  webhookShare: 0.8,
  /** Where webhook deliveries come from (assumption: Clerk's Svix deliveries leave from US East). */
  webhookRegion: "enam",
  /**
   * Share of requests bearing a long-lived minted token (expires_in_seconds > 60): they keep the
   * per-user object check and Clerk's status confirmation in the new design.
   */
  longLivedShare: 0.001,

  // --- the new design: recent revocations per location ----------------------------------
  /** An isolate refreshes its recent set when it is older than this (single flight per isolate). */
  pollMs: 1_000,
  /** Each refresh draws its poll interval in [pollMs × (1 − pollJitter), pollMs]: spreads a location's isolates. */
  pollJitter: 0.2,
  /**
   * A request whose set is older than this waits for the refresh; younger than this (and older than
   * pollMs) it is checked against the set it has while the refresh runs in the background. The set's
   * age is counted from when the replica read it (stamped in the answer), not from when the isolate
   * got it. This is what bounds revocation: ≤ maxStaleMs + the append reaching the replica.
   */
  maxStaleMs: 1_200,
  /**
   * Per-location cache (Cache API, per data center) of the replica's answer: "bucket" keys it by
   * floor(now / cacheTtlMs) (an entry serves the rest of its bucket), "ttl" keeps one key whose
   * entry is fresh while now − the replica's read time (stamped in it) < cacheTtlMs. Cache-Control
   * max-age counts whole seconds, so a sub-second freshness has to be the stamp's.
   */
  cacheMode: "ttl",
  cacheTtlMs: 500,
  /**
   * Revocation log replicas (Durable Objects): each append is written to all of them; a location
   * reads the one in its region, else the nearest. Placed in the regions with the most traffic first.
   */
  replicas: 9,
  /** Bytes one set entry costs an isolate: a 32-character session id, 8 for the time, the map's overhead. */
  entryBytes: 32 + 8 + code.ENTRY_OVERHEAD_BYTES,
  /** Bytes one entry costs on the wire (JSON {"sid":"sess_…","at":…}). */
  wireBytesPerEntry: 48,
  /** Workers' memory per isolate (developers.cloudflare.com/workers/platform/limits/#memory). */
  isolateMemoryBytes: 128 * 1024 * 1024,

  // --- the simulation itself -----------------------------------------------------------
  /** Simulated before measuring: longer than the recent set's window, so isolates are in steady state. */
  warmupS: 70,
  /**
   * Isolates are simulated from this long before the window (at most warmupS): enough for their
   * refresh cycles to settle; their lifetimes are memoryless, so an earlier start changes nothing.
   * A user's request before it lands in a cold isolate.
   */
  isolateWarmupS: 15,
  /** Measured window, simulated at full event rates. */
  windowS: 60,
  /** Users simulated one by one (a uniform sample; their per-request figures scale as they are). */
  sampleUsers: 200_000,
  /** The heaviest users of the whole population, simulated too (busiest per-user object). */
  topUsers: 20,
  /** Revocations whose bound is measured (drawn in the window, at revocationsPerS). */
  revocationSamples: 2_000,
};

/** The constants of today's design, from the source (read-only: not parameters). */
export const TODAY = {
  negativeMemoryMs: code.REVOCATION_NEGATIVE_MEMORY_MS,
  listMemoryMs: code.SESSION_LIST_MEMORY_MS,
  sessionStatusMemoryMs: code.SESSION_STATUS_MEMORY_MS,
  directoryTimeoutMs: code.DIRECTORY_TIMEOUT_MS,
  directoryFallbackMaxMs: code.DIRECTORY_FALLBACK_MAX_MS,
  tokenLifetimeS: code.SESSION_TOKEN_LIFETIME_SECONDS,
  clockSkewS: code.CLOCK_SKEW_SECONDS,
  entryOverheadBytes: code.ENTRY_OVERHEAD_BYTES,
};

/** How long the new design remembers a revocation: the longest a 60 s token can still verify. */
export const RECENT_WINDOW_MS = (TODAY.tokenLifetimeS + TODAY.clockSkewS) * 1000;

/** The goals the new design's figures are read against (issue "No round trip on the hot path"). */
export const GOALS = {
  roundTripsPerRequest: 0.01,
  busiestObjectShareOfLimit: 0.5,
  boundP99Ms: 1_500,
};
