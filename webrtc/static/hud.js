// The developers' HUD (issue 21), on the shopper's page and the studio; off by default. On with ?hud=1
// (the studio: ?debug=1 too), or Shift+D, which toggles it and remembers the choice in this tab
// (sessionStorage). Drawn in #stats over the stage from what the server pushes on the control channel
// about once a second (the `stats` message: fps_in, fps_out, frames, dropped, failures, rejected,
// latency_ms, per-stage ms, provider, threads) and the browser's own getStats() (received fps, jitter
// buffer delay and decode time per frame, round trip):
//   - a rolling frame-rate graph, in and out, of the last 30 s (SVG, drawn with DOM APIs: the pages'
//     CSP allows no inline style, only script-set element.style);
//   - end-to-end latency ≈ the server's (camera frame in → processed frame to the encoder) + the round
//     trip (camera up, picture down) + the jitter buffer + decoding; encoding is not measured;
//   - the stages of the frame, as one stacked bar, and each one's ms;
//   - drops, failures, rejected poses; the provider and threads the models run with;
//   - "Record 10 s": the `trace` control message (?trace=S: another duration, 0 < S <= 30); the ack
//     names the file, a `trace` message says it is written (tryon serve --trace-dir), an error is shown
//     as the server wrote it.
import { t } from "/static/i18n.js";
import { app, el, params, tryon } from "/static/state.js";
import { h, num } from "/static/util.js";
import { send } from "/static/live.js";

const HUD_KEY = "tryon.hud"; // sessionStorage: "1" on, "0" off (Shift+D, the Stats switch)
const WINDOW_MS = 30000; // the graph's width
const GRAPH = { w: 240, h: 64 };
const BUDGET_MS = 1000 / 30; // the stage bar is at least a 30 fps frame wide
const SVG = "http://www.w3.org/2000/svg";
const MAX_TRACE_S = 30;

const requested = Number(params.get("trace"));
const traceSeconds = requested > 0 && requested <= MAX_TRACE_S ? requested : 10;

const hud = {
  built: false,
  history: [], // {at (performance.now() ms), in, out}: the stats messages of the last 30 s
  trace: { state: "idle", id: null, file: null, frames: null, error: null },
  parts: {},
  prev: null, // the last getStats() counters, for per-interval jitter buffer and decode times
};

const svg = (tag, attrs = {}) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};

// -- on / off -------------------------------------------------------------------------------------------

export const hudOn = () => !!el.statsToggle?.checked;

/** Wire the HUD to the page: its switch (#stats-toggle, in #stats-switch where the page hides it) and Shift+D. */
export function initHud() {
  let stored = null;
  try { stored = sessionStorage.getItem(HUD_KEY); } catch { /* storage blocked */ }
  const asked = params.get("hud") === "1" || params.get("debug") === "1";
  setHud(asked || stored === "1", false);
  el.statsToggle.addEventListener("change", () => setHud(el.statsToggle.checked, true));
  document.addEventListener("keydown", (e) => {
    if (e.code !== "KeyD" || !e.shiftKey || e.ctrlKey || e.metaKey || e.altKey || e.repeat || typing(e.target)) return;
    e.preventDefault();
    setHud(!hudOn(), true);
  });
}

function typing(node) {
  if (!(node instanceof Element)) return false;
  if (node.isContentEditable || node.matches("textarea, select")) return true;
  return node.matches("input") && !["checkbox", "radio", "range", "button", "submit", "color"].includes(node.type);
}

export function setHud(on, save) {
  el.statsToggle.checked = on;
  // The shopper's page shows its switch only once the HUD was on (a shopper never sees it).
  if (el.statsSwitch && on) el.statsSwitch.hidden = false;
  if (save) { try { sessionStorage.setItem(HUD_KEY, on ? "1" : "0"); } catch { /* storage blocked */ } }
  renderHud();
  if (on) pollBrowserStats();
}

// -- the server's stats and the browser's ---------------------------------------------------------------

/** A stats message arrived (live.js): into the graph's history. */
export function hudStats(s) {
  const at = performance.now();
  hud.history.push({ at, in: s.fps_in, out: s.fps_out });
  while (hud.history.length && hud.history[0].at < at - WINDOW_MS) hud.history.shift();
}

/** The browser's own numbers for the HUD (every second while it is on): received fps, size, RTT, jitter buffer, decode. */
export async function pollBrowserStats() {
  const pc = app.cam?.pc;
  if (!pc || !hudOn() || pc.connectionState !== "connected") return;
  let report;
  try { report = await pc.getStats(); } catch { return; }
  let inbound = null, pair = null, pairId = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && (s.kind ?? s.mediaType) === "video") inbound = s;
    else if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    else if (s.type === "candidate-pair" && s.state === "succeeded" && (s.nominated || s.selected)) pair ??= s;
  });
  if (pairId && report.get(pairId)) pair = report.get(pairId);
  if (app.cam?.pc !== pc) return;
  // Per frame over the last interval (the counters are cumulative): jitter buffer and decode, ms.
  const now = {
    jb: inbound?.jitterBufferDelay, jbn: inbound?.jitterBufferEmittedCount, dec: inbound?.totalDecodeTime, decn: inbound?.framesDecoded,
  };
  const prev = hud.prev?.pc === pc ? hud.prev : { jb: 0, jbn: 0, dec: 0, decn: 0 };
  const perFrame = (s, n, s0, n0) => (typeof s === "number" && typeof n === "number" && n > n0 ? ((s - s0) / (n - n0)) * 1000 : null);
  hud.prev = { pc, ...now };
  app.browserStats = tryon.browserStats = {
    fps: inbound?.framesPerSecond, width: inbound?.frameWidth, height: inbound?.frameHeight, rtt: pair?.currentRoundTripTime,
    jitterMs: perFrame(now.jb, now.jbn, prev.jb, prev.jbn), decodeMs: perFrame(now.dec, now.decn, prev.dec, prev.decn),
    framesDropped: inbound?.framesDropped,
  };
  renderHud();
}

// -- the trace button ---------------------------------------------------------------------------------

function record() {
  if (["asking", "recording"].includes(hud.trace.state)) return;
  const id = app.nextId;
  if (!send("trace", { seconds: traceSeconds })) return;
  hud.trace = { state: "asking", id, file: null, frames: null, error: null };
  renderHud();
}

/** Control-channel messages about the trace (its ack, its error, the `trace` message when written): true when taken. */
export function hudMessage(msg) {
  const mine = hud.trace.id !== null && msg?.id === hud.trace.id;
  if (msg?.type === "ack" && msg.request === "trace") {
    Object.assign(hud.trace, { state: "recording", file: String(msg.file ?? "") });
  } else if (msg?.type === "trace") {
    Object.assign(hud.trace, { state: "saved", file: String(msg.file ?? ""), frames: msg.frames ?? null });
  } else if (msg?.type === "error" && (mine || String(msg.message ?? "").startsWith("trace:"))) {
    Object.assign(hud.trace, { state: "error", error: String(msg.message ?? "") });
  } else return false;
  renderHud();
  return true;
}

/** A new camera session: the graph and the trace start afresh. */
export function resetHud() {
  hud.history = [];
  hud.prev = null;
  hud.trace = { state: "idle", id: null, file: null, frames: null, error: null };
}

// -- drawing --------------------------------------------------------------------------------------------

function build() {
  const p = hud.parts;
  p.title = h("h3", {});
  p.runtime = h("span", { class: "hud-runtime", id: "hud-runtime" });
  p.graphTitle = h("span", { class: "hud-caption" });
  p.lineIn = svg("polyline", { class: "hud-line hud-line-in", points: "" });
  p.lineOut = svg("polyline", { class: "hud-line hud-line-out", points: "" });
  p.top = svg("text", { class: "hud-axis", x: 2, y: 9 });
  p.graph = svg("svg", { id: "hud-graph", class: "hud-graph", viewBox: `0 0 ${GRAPH.w} ${GRAPH.h}`, preserveAspectRatio: "none", "aria-hidden": "true" });
  p.graph.append(svg("line", { class: "hud-grid", x1: 0, x2: GRAPH.w, y1: GRAPH.h / 2, y2: GRAPH.h / 2 }), p.lineOut, p.lineIn, p.top);
  p.keyIn = h("span", { class: "hud-key hud-key-in", id: "hud-fps-in" });
  p.keyOut = h("span", { class: "hud-key hud-key-out", id: "hud-fps-out" });
  p.numbers = h("dl", { class: "hud-numbers", id: "hud-numbers" });
  p.stagesTitle = h("span", { class: "hud-caption" });
  p.scale = h("span", { class: "hud-scale" });
  p.bar = h("div", { class: "hud-bar", id: "hud-bar" });
  p.stages = h("ul", { class: "hud-stages", id: "hud-stages" });
  p.record = h("button", { type: "button", id: "hud-record", class: "btn btn-small hud-record", onclick: record });
  p.traceStatus = h("span", { id: "hud-trace", class: "hud-trace", role: "status" });
  p.waiting = h("p", { class: "hud-waiting" });
  el.stats.classList.add("hud");
  el.stats.replaceChildren(
    h("div", { class: "hud-head" }, p.title, p.runtime),
    p.waiting,
    h("div", { class: "hud-section" }, h("div", { class: "hud-legend" }, p.graphTitle, p.keyIn, p.keyOut), p.graph),
    p.numbers,
    h("div", { class: "hud-section" }, h("div", { class: "hud-legend" }, p.stagesTitle, p.scale), p.bar, p.stages),
    h("div", { class: "hud-actions" }, p.record, p.traceStatus),
  );
  hud.built = true;
}

/** The polyline's points for one series (null values skipped), x by age, y by `top`. */
function points(key, now, top) {
  return hud.history.filter((s) => typeof s[key] === "number").map((s) => {
    const x = GRAPH.w - ((now - s.at) / WINDOW_MS) * GRAPH.w;
    const y = GRAPH.h - (Math.min(s[key], top) / top) * (GRAPH.h - 2);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  }).join(" ");
}

/** The stages as drawn: leaves only (a parent such as "render" holds its "render.*"), and what the total leaves over. */
export function stageParts(stages) {
  const entries = Object.entries(stages ?? {}).filter(([, ms]) => typeof ms === "number" && Number.isFinite(ms));
  const keys = entries.map(([k]) => k);
  const leaves = entries.filter(([k]) => k !== "total" && !keys.some((o) => o.startsWith(`${k}.`)));
  const total = stages?.total ?? leaves.reduce((a, [, ms]) => a + ms, 0);
  const other = total - leaves.reduce((a, [, ms]) => a + ms, 0);
  if (other > 0.05) leaves.push(["other", other]);
  return { leaves, total };
}

function row(label, value, id) { return [h("dt", { text: label }), h("dd", { text: value, id })]; }

export function renderHud() {
  el.stats.hidden = !hudOn();
  tryon.hud = { on: hudOn(), samples: hud.history.length, trace: { ...hud.trace }, traceSeconds };
  if (el.stats.hidden) return;
  if (!hud.built) build();
  const p = hud.parts;
  const { lastStats: s, browserStats: b } = app;
  p.title.textContent = t("hud.heading");
  p.runtime.textContent = s?.provider ? `${String(s.provider).replace(/ExecutionProvider$/, "")}${typeof s.threads === "number" ? ` · ${t("hud.threads", { n: s.threads })}` : ""}` : "";
  p.runtime.title = s?.provider ? String(s.provider) : "";
  p.waiting.hidden = !!s;
  p.waiting.textContent = t("stats.waiting");

  // The frame-rate graph: in (the camera's frames reaching the server) and out (processed frames sent).
  const now = performance.now();
  const peak = Math.max(0, ...hud.history.flatMap((x) => [x.in, x.out]).filter((v) => typeof v === "number"));
  const top = Math.max(10, Math.ceil((peak * 1.15) / 10) * 10);
  p.lineIn.setAttribute("points", points("in", now, top));
  p.lineOut.setAttribute("points", points("out", now, top));
  p.top.textContent = `${top} fps`;
  p.graphTitle.textContent = t("hud.graph");
  p.keyIn.textContent = `${t("hud.in")} ${num(s?.fps_in)}`;
  p.keyOut.textContent = `${t("hud.out")} ${num(s?.fps_out)}`;

  // The numbers.
  const rows = [];
  const rtt = typeof b?.rtt === "number" ? b.rtt * 1000 : null;
  const parts = [s?.latency_ms, rtt, b?.jitterMs, b?.decodeMs];
  const e2e = parts.every((x) => typeof x === "number") ? parts.reduce((a, x) => a + x, 0) : null;
  rows.push(row(t("hud.e2e"), e2e === null ? "–" : `≈ ${num(e2e, 0)} ms`, "hud-e2e"));
  rows.push(row(t("stats.latency"), s ? `${num(s.latency_ms)} ms` : "–", "hud-latency"));
  rows.push(row(t("stats.rtt"), rtt === null ? "–" : `${num(rtt)} ms`, "hud-rtt"));
  rows.push(row(t("hud.jitter"), typeof b?.jitterMs === "number" ? `${num(b.jitterMs)} ms` : "–", "hud-jitter"));
  rows.push(row(t("hud.decode"), typeof b?.decodeMs === "number" ? `${num(b.decodeMs)} ms` : "–", "hud-decode"));
  if (s) {
    rows.push(row(t("stats.frames"), `${num(s.frames_in, 0)} / ${num(s.frames_out, 0)}`, "hud-frames"));
    rows.push(row(t("hud.dropFail"), `${num(s.dropped, 0)} / ${num(s.failures, 0)}`, "hud-drops"));
    const rejected = Object.entries(s.rejected ?? {}).filter(([, n]) => n > 0);
    if (rejected.length) rows.push(row(t("hud.rejected"), rejected.map(([k, n]) => `${k} ${n}`).join(", "), "hud-rejected"));
    if (s.paused === true) rows.push(row(t("stats.paused"), t("stats.yes"), "hud-paused"));
  }
  if (b) rows.push(row(t("hud.received"), `${num(b.fps)} · ${b.width && b.height ? `${b.width}×${b.height}` : "–"}`, "hud-received"));
  p.numbers.replaceChildren(...rows.flat());

  // The stages of the frame, stacked: a bar at least a 30 fps frame (33 ms) wide.
  const { leaves, total } = stageParts(s?.stages);
  const scale = Math.max(total, BUDGET_MS);
  p.stagesTitle.textContent = t("hud.stages", { ms: num(total) });
  p.scale.textContent = `↔ ${num(scale, 0)} ms`; // the bar's full width
  p.bar.replaceChildren(...leaves.map(([name, ms], i) => {
    const seg = h("span", { class: `hud-seg hud-c${i % 8}`, title: `${name} ${num(ms)} ms`, "data-stage": name });
    seg.style.width = `${Math.max(0, (ms / scale) * 100).toFixed(2)}%`;
    return seg;
  }));
  p.stages.replaceChildren(...leaves.map(([name, ms], i) => h("li", { "data-stage": name },
    h("span", { class: `hud-swatch hud-c${i % 8}`, "aria-hidden": "true" }), h("span", { class: "hud-stage-name", text: name }),
    h("span", { class: "hud-stage-ms", text: num(ms) }))));

  // The trace.
  const tr = hud.trace;
  const busy = tr.state === "asking" || tr.state === "recording";
  const channel = app.cam?.dc?.readyState === "open";
  p.record.textContent = t("hud.record", { s: num(traceSeconds, traceSeconds % 1 ? 1 : 0) });
  p.record.disabled = busy || !channel;
  p.traceStatus.dataset.state = tr.state;
  p.traceStatus.textContent = {
    idle: channel ? "" : t("hud.noSession"),
    asking: t("hud.asking"),
    recording: t("hud.recording", { file: tr.file }),
    saved: t("hud.saved", { file: tr.file, frames: tr.frames ?? "?" }),
    error: tr.error,
  }[tr.state] ?? "";
}
