/**
 * Draws a bench result as a small, dependency-free SVG for docs/benchmarks.md:
 * throughput bars (log scale) and p50/p99 latency per scenario, upstream calls as text.
 */
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderSvg(result) {
  const rows = result.scenarios;
  const measured = rows.filter((r) => !r.unavailable);
  const W = 900;
  const rowH = 46;
  const top = 70;
  const labelW = 300;
  const barW = 300;
  const latX = labelW + barW + 40;
  const latW = W - latX - 20;
  const H = top + rows.length * rowH + 30 + 17 * (result.printed?.length ?? 0);
  const maxRps = Math.max(...measured.map((r) => r.rps), 1);
  const logMax = Math.log10(maxRps * 1.2);
  const bar = (rps) => Math.max(2, (Math.log10(Math.max(rps, 1)) / logMax) * barW);
  // Log scale from 1 ms: the herd's seconds-long tail would flatten every other bar.
  const maxLat = Math.log10(Math.max(...measured.map((r) => r.p99), 10) * 1.2);
  const lat = (ms) => Math.max(1, (Math.log10(Math.max(ms, 1)) / maxLat) * (latW - 70));
  const colors = {
    floor: "#c0c0c0",
    "floor-kv": "#a8a8a8",
    "floor-kv-rate": "#a8a8a8",
    "floor-do": "#b4b4b4",
    healthz: "#8c8c8c",
    cached: "#f38020",
    "cached-rate": "#f38020",
    "cached-kv-only": "#f8b070",
    nocache: "#4a7bd0",
    baseline: "#b04a4a",
    "baseline-rate": "#b04a4a",
    "mw-clerk": "#7a5cc0",
    "mw-clerk-rate": "#7a5cc0",
    "mw-ours": "#f3a020",
    "mw-ours-rate": "#f3a020",
    herd: "#6a9c4a",
  };
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`,
    `<title>clerk-session-gateway benchmark: throughput and latency per scenario</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="20" y="28" font-size="17" font-weight="600">clerk-session-gateway: npm run bench</text>`,
    `<text x="20" y="48" fill="#555">${esc(
      `${result.date.slice(0, 16).replace("T", " ")} UTC · ${result.machine.cpus} cores shared by workerd and autocannon · upstream latency ${result.method.upstreamLatencyMs} ms · bundle ${(result.bundle.gzipBytes / 1024).toFixed(1)} KiB gzip`,
    )}</text>`,
    `<text x="${labelW}" y="${top - 6}" fill="#555">req/s (log scale)</text>`,
    `<text x="${latX}" y="${top - 6}" fill="#555">latency ms, log scale: p50 (dark) / p99 (light)</text>`,
  );
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const c = colors[r.name] ?? "#666";
    if (r.unavailable) {
      out.push(
        `<text x="20" y="${y + 18}">${esc(r.label)}</text>`,
        `<text x="${labelW}" y="${y + 22}" fill="#777">${esc(r.unavailable)}</text>`,
      );
      return;
    }
    out.push(
      `<text x="20" y="${y + 18}">${esc(r.label)}</text>`,
      `<text x="20" y="${y + 34}" fill="#777" font-size="11">${esc(
        `${r.upstreamCalls} upstream calls / ${r.requests} requests${r.workerdCpuUsPerRequest ? ` · ${Math.round(r.workerdCpuUsPerRequest)} µs CPU/req` : ""}`,
      )}</text>`,
      `<rect x="${labelW}" y="${y + 6}" width="${bar(r.rps).toFixed(1)}" height="22" fill="${c}"/>`,
      `<text x="${(labelW + bar(r.rps) + 6).toFixed(1)}" y="${y + 22}">${Math.round(r.rps).toLocaleString("en-US")}</text>`,
      `<rect x="${latX}" y="${y + 6}" width="${lat(r.p99).toFixed(1)}" height="22" fill="${c}" opacity="0.35"/>`,
      `<rect x="${latX}" y="${y + 6}" width="${lat(r.p50).toFixed(1)}" height="22" fill="${c}"/>`,
      `<text x="${(latX + lat(r.p99) + 6).toFixed(1)}" y="${y + 22}">${esc(`${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`)}</text>`,
    );
  });
  // The labelled ratios, as printed by the run.
  (result.printed ?? []).forEach((line, k) => {
    out.push(`<text x="20" y="${H - 20 - (result.printed.length - 1 - k) * 17}" fill="#333">${esc(line)}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
