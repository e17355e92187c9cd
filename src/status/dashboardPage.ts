/**
 * The dashboard page: one self-contained HTML document (no build step, no external asset) that polls
 * `/api/cluster` every `?refresh=` ms (default 2000) and redraws stores, the region map, live ops/s and
 * latency charts (inline SVG, computed from successive readings of the stores' request counters) and the
 * recent operators. Text from the cluster (keys, addresses) is only ever set as `textContent`.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TinyKV dashboard</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ee; --accent: #2f6fde; --ok: #1f9d55; --warn: #c77d0a; --bad: #d64545; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #f6f7fb; }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: var(--muted); }
  main { padding: 16px 24px; display: grid; gap: 16px; }
  .tiles { display: grid; grid-template-columns: repeat(5, minmax(120px, 1fr)); gap: 12px; }
  .tile, section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
  .tile .v { font-size: 24px; font-weight: 600; }
  .tile .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  td.key { font-family: ui-monospace, monospace; max-width: 260px; overflow: hidden; text-overflow: ellipsis; }
  .state-Up { color: var(--ok); } .state-Disconnected, .state-Offline { color: var(--warn); } .state-Down, .state-Tombstone { color: var(--bad); }
  .leader { font-weight: 600; }
  svg { width: 100%; height: 140px; display: block; }
  .regionbar { display: flex; height: 22px; border-radius: 4px; overflow: hidden; margin-bottom: 8px; border: 1px solid var(--line); }
  .regionbar div { border-right: 1px solid #fff; background: var(--accent); opacity: .75; min-width: 2px; }
  .regionbar div:nth-child(2n) { opacity: .5; }
  .empty { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>TinyKV</h1>
  <span class="meta" id="cluster">connecting…</span>
  <span class="meta">updated <span id="updated">never</span></span>
</header>
<main>
  <div class="tiles">
    <div class="tile"><div class="k">stores up</div><div class="v" id="stores-up">–</div></div>
    <div class="tile"><div class="k">regions</div><div class="v" id="region-count">–</div></div>
    <div class="tile"><div class="k">ops/s</div><div class="v" id="ops">–</div></div>
    <div class="tile"><div class="k">mean latency</div><div class="v" id="latency">–</div></div>
    <div class="tile"><div class="k">requests served</div><div class="v" id="total-requests">–</div></div>
  </div>
  <div class="charts">
    <section><h2>ops/s</h2><svg id="ops-chart" viewBox="0 0 600 140" preserveAspectRatio="none"></svg></section>
    <section><h2>mean latency (ms)</h2><svg id="latency-chart" viewBox="0 0 600 140" preserveAspectRatio="none"></svg></section>
  </div>
  <section>
    <h2>stores</h2>
    <table id="stores"><thead><tr><th>id</th><th>address</th><th>state</th><th>regions</th><th>leaders</th><th>size (MiB)</th><th>capacity</th><th>available</th><th>requests</th><th>status</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>region map</h2>
    <div class="regionbar" id="regionbar"></div>
    <table id="regions"><thead><tr><th>id</th><th>start key</th><th>end key</th><th>peers (store:peer)</th><th>leader store</th><th>size (MiB)</th><th>epoch</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>recent operators</h2>
    <table id="operators"><thead><tr><th>region</th><th>kind</th><th>status</th><th>step</th><th>description</th><th>created</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script>
"use strict";
const refresh = Number(new URLSearchParams(location.search).get("refresh")) || 2000;
const history = [];
const HISTORY = 60;

const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; };
const row = (cells) => { const tr = el("tr"); for (const c of cells) tr.appendChild(c instanceof Node ? c : el("td", c)); return tr; };
const fill = (id, rows, empty, cols) => {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren(...(rows.length ? rows : [row([Object.assign(el("td", empty, "empty"), { colSpan: cols })])]));
};
const bytes = (n) => n >= 1 << 30 ? (n / (1 << 30)).toFixed(1) + " GiB" : n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MiB" : n + " B";
const keyText = (k, end) => k.hex === "" ? (end ? "+∞" : "−∞") : (k.text !== undefined && k.text !== null ? k.text : "0x" + k.hex);

function chart(id, values, fmt) {
  const svg = document.getElementById(id);
  const max = Math.max(1e-9, ...values);
  const w = 600, h = 140, n = Math.max(values.length - 1, 1);
  const pts = values.map((v, i) => (i / n * w).toFixed(1) + "," + (h - 4 - v / max * (h - 24)).toFixed(1)).join(" ");
  const ns = "http://www.w3.org/2000/svg";
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", pts); line.setAttribute("fill", "none"); line.setAttribute("stroke", "#2f6fde"); line.setAttribute("stroke-width", "2");
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "4"); label.setAttribute("y", "14"); label.setAttribute("fill", "#6b7385"); label.setAttribute("font-size", "12");
  label.textContent = "max " + fmt(max);
  svg.replaceChildren(line, label);
}

function render(view) {
  document.getElementById("cluster").textContent = "cluster " + view.clusterId + (view.bootstrapped ? "" : " (not bootstrapped)");
  document.getElementById("updated").textContent = new Date(view.at).toLocaleTimeString();
  const up = view.stores.filter((s) => s.state === "Up").length;
  document.getElementById("stores-up").textContent = up + " / " + view.stores.length;
  document.getElementById("region-count").textContent = view.regions.length;

  let requests = 0, sum = 0, count = 0;
  for (const s of view.stores) if (s.requests) { requests += s.requests.requests; sum += s.requests.latencySum; count += s.requests.latencyCount; }
  document.getElementById("total-requests").textContent = requests;
  history.push({ at: view.at, requests, sum, count });
  if (history.length > HISTORY + 1) history.shift();
  const rates = [], latencies = [];
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1], b = history[i], dt = Math.max((b.at - a.at) / 1000, 1e-3);
    const dc = Math.max(b.count - a.count, 0);
    rates.push(Math.max(b.requests - a.requests, 0) / dt);
    latencies.push(dc > 0 ? (b.sum - a.sum) / dc * 1000 : 0);
  }
  const last = (xs) => xs.length ? xs[xs.length - 1] : 0;
  document.getElementById("ops").textContent = last(rates).toFixed(1);
  document.getElementById("latency").textContent = last(latencies).toFixed(2) + " ms";
  chart("ops-chart", rates.length ? rates : [0], (v) => v.toFixed(1) + " ops/s");
  chart("latency-chart", latencies.length ? latencies : [0], (v) => v.toFixed(2) + " ms");

  fill("stores", view.stores.map((s) => {
    const status = el("td");
    if (s.statusAddress) { const a = el("a", "metrics"); a.href = location.protocol + "//" + s.statusAddress + "/metrics"; status.appendChild(a); } else status.textContent = "–";
    return row([s.id, s.address, el("td", s.state, "state-" + s.state), s.regionCount, s.leaderCount, s.regionSizeMiB,
      bytes(s.capacity), bytes(s.available), s.requests ? s.requests.requests : "–", status]);
  }), "no stores yet", 10);

  const bar = document.getElementById("regionbar");
  const total = view.regions.reduce((t, r) => t + Math.max(r.approximateSizeMiB, 1), 0);
  bar.replaceChildren(...view.regions.map((r) => {
    const d = el("div"); d.style.flexGrow = String(Math.max(r.approximateSizeMiB, 1) / Math.max(total, 1));
    d.title = "region " + r.id + ": " + keyText(r.startKey, false) + " … " + keyText(r.endKey, true); return d;
  }));
  fill("regions", view.regions.map((r) => {
    const peers = el("td");
    r.peers.forEach((p, i) => {
      if (i > 0) peers.appendChild(document.createTextNode(", "));
      peers.appendChild(el("span", p.storeId + ":" + p.id, p.storeId === r.leaderStoreId ? "leader" : undefined));
    });
    return row([r.id, el("td", keyText(r.startKey, false), "key"), el("td", keyText(r.endKey, true), "key"), peers,
      r.leaderStoreId === null ? "none" : r.leaderStoreId, r.approximateSizeMiB, r.epoch.confVer + "/" + r.epoch.version]);
  }), "no regions yet", 7);

  const ops = [...view.operators].sort((a, b) => b.createdMs - a.createdMs).slice(0, 20);
  fill("operators", ops.map((o) => row([o.regionId, o.kind, o.status, o.step + "/" + o.steps, o.desc,
    new Date(o.createdMs).toLocaleTimeString()])), "no operators yet", 6);
}

async function tick() {
  try {
    const r = await fetch("/api/cluster", { cache: "no-store" });
    if (r.ok) render(await r.json());
    else document.getElementById("cluster").textContent = "scheduler answered " + r.status;
  } catch (e) {
    document.getElementById("cluster").textContent = "scheduler unreachable";
  } finally {
    setTimeout(tick, refresh);
  }
}
tick();
</script>
</body>
</html>
`
