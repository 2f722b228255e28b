// tryon: the host's studio (/studio). The shopper page's stage, controls and catalog rail (the same modules:
// rail.js, live.js, view.js) with the host's camera published to a show instead of a private session, and
// the show around it: start / resume / end, the viewer link, "now showing", the live numbers and comments.
//
// The host's microphone goes with the camera (live.js, app.microphone): the show's sound, with a mute toggle.
// "Stream from OBS": the WHIP URL with the show's key as bearer token (masked until revealed), the WHEP URL.
// The live board (the host channel's `board` event, every 2 s; docs/show.md "Engagement analytics"): per
// product tries, median dwell, buys, conversion, likes while it showed, mentions, trend and a sparkline of
// tries per minute; the questions waiting, each ticked off with "Answered".
//
// The keys: the server's host key is only sent once (POST /api/shows) and never kept; the show's own key
// lives in this tab's sessionStorage and travels only in the Authorization header (docs/show.md), never in
// a URL; the OBS panel shows it to its host only.
import { LANGS, LOCALES, applyTranslations, getLang, pickLang, setLang, t } from "/static/i18n.js";
import { app, el } from "/static/state.js";
import { errorText, fetchConfig, h, num, safeColor } from "/static/util.js";
import {
  fillThumb, loadCatalog, lookChanged, removeFromLook, renderDetail, renderFilters, renderLook, renderProducts, selectProduct, selectShade,
  updateCards,
} from "/static/rail.js";
import { intensityThrottled, sendPause, sendSplit, splitThrottled, startCamera, teardownCamera } from "/static/live.js";
import { clearMessage, layoutStage, renderMessage, renderStats, setState, showMessage, updateSplitView, updateUI } from "/static/view.js";
import { StreamRefused, readEventStream } from "/static/push.js";
import { initHud, pollBrowserStats } from "/static/hud.js";

const LANG_KEY = "tryon.lang";
const SHOW_KEY = "tryon.show"; // sessionStorage: {id, key, title}
const MAX_COMMENTS = 50;
const RECONNECT_MS = 2000;

// The show this tab hosts. `state` is the server's public state (docs/show.md), kept up to date by the events.
const show = { id: null, key: null, title: "", state: null, host: null, comments: [], ended: false, stream: null, retry: null,
  board: null, boardAt: 0, answered: new Set() };
// What tests and tools read (never the key).
const studio = (window.studio = { id: null, status: "none", showing: null, counts: {}, host: null, comments: [], events: 0, mic: null,
  board: null, questions: [] });

const api = (path = "") => `/api/shows/${encodeURIComponent(show.id)}${path}`;
const bearer = (key, headers = {}) => ({ ...headers, Authorization: `Bearer ${key}` });

// -- the show: start, resume, end ------------------------------------------------------------------------

async function startShow(e) {
  e.preventDefault();
  const key = el.keyInput.value.trim();
  const resumeId = el.resumeId.value.trim();
  if (!key) return el.keyInput.focus();
  el.startShow.disabled = true;
  try {
    if (resumeId) {
      const resp = await fetch(`/api/shows/${encodeURIComponent(resumeId)}`, { cache: "no-store" });
      if (resp.status === 404) return showMessage({ kind: "error", lines: [{ key: "studio.err.noSuchShow" }] });
      if (!resp.ok) throw new Error(await errorText(resp));
      const state = await resp.json();
      if (state.ended) return showMessage({ kind: "error", lines: [{ key: "studio.err.showOver" }] });
      openShow({ id: resumeId, key, title: state.title ?? "" });
    } else {
      const title = el.titleInput.value.trim();
      const resp = await fetch("/api/shows", {
        method: "POST", headers: bearer(key, { "Content-Type": "application/json" }), body: JSON.stringify(title ? { title } : {}),
      });
      if (resp.status === 401 || resp.status === 403) {
        return showMessage({ kind: "error", lines: [{ key: "studio.err.keyRefused" }], detail: await errorText(resp) });
      }
      if (!resp.ok) throw new Error(await errorText(resp));
      const made = await resp.json();
      openShow({ id: made.id, key: made.key, title: made.title ?? title, viewerUrl: made.viewer_url });
    }
    el.keyInput.value = ""; // the server's key is not kept anywhere
    clearMessage();
  } catch (err) {
    showMessage({ kind: "error", lines: [{ key: "studio.err.start" }], detail: err?.message });
  } finally {
    el.startShow.disabled = false;
  }
}

function openShow({ id, key, title, viewerUrl }) {
  Object.assign(show, { id, key, title, state: null, host: null, comments: [], ended: false, board: null, answered: new Set() });
  try { sessionStorage.setItem(SHOW_KEY, JSON.stringify({ id, key, title })); } catch { /* storage blocked */ }
  app.endpoint = { url: api("/publish"), headers: (hs) => bearer(key, hs) };
  el.viewerLink.value = new URL(viewerUrl || `/show/${encodeURIComponent(id)}`, location.origin).href;
  connectEvents();
  renderShow();
}

async function endShow() {
  if (!show.id || show.ended) return;
  el.endShow.disabled = true;
  try {
    const resp = await fetch(api(), { method: "DELETE", headers: bearer(show.key) });
    if (!resp.ok && resp.status !== 404) throw new Error(await errorText(resp));
    showEnded();
  } catch (err) {
    showMessage({ kind: "error", lines: [{ key: "studio.err.end" }], detail: err?.message });
  } finally {
    el.endShow.disabled = false;
  }
}

function stopCamera() {
  app.gen += 1;
  teardownCamera();
  app.mode = "none";
  setState("idle");
}

/** The show is over (ended here, or the server said so): camera off, key forgotten. */
function showEnded() {
  show.ended = true;
  show.stream?.abort();
  clearTimeout(show.retry);
  stopCamera();
  app.endpoint = null;
  show.key = null;
  try { sessionStorage.removeItem(SHOW_KEY); } catch { /* storage blocked */ }
  renderShow();
}

/** Back to the key form, for a new show. */
function leaveShow() {
  Object.assign(show, { id: null, key: null, title: "", state: null, host: null, comments: [], ended: false, board: null, answered: new Set() });
  renderShow();
  el.keyInput.focus();
}

// -- the host's push channel -----------------------------------------------------------------------------

function connectEvents() {
  show.stream?.abort();
  clearTimeout(show.retry);
  const controller = (show.stream = new AbortController());
  const again = () => {
    if (show.stream === controller && !show.ended) show.retry = setTimeout(connectEvents, RECONNECT_MS);
  };
  readEventStream(api("/events"), { headers: bearer(show.key), signal: controller.signal, onEvent: (type, data) => show.stream === controller && onEvent(type, data) })
    .then(again, (err) => {
      if (controller.signal.aborted) return;
      if (err instanceof StreamRefused && [401, 403, 404].includes(err.status)) {
        // A wrong key, or a show the server no longer knows: nothing to retry.
        showMessage({ kind: "error", lines: [{ key: err.status === 404 ? "studio.err.noSuchShow" : "studio.err.keyRefused" }], detail: err.message, sticky: true });
        if (err.status === 404) return showEnded();
        return leaveShow();
      }
      console.warn("show events: reconnecting", err);
      again();
    });
}

function onEvent(type, data) {
  studio.events += 1;
  if (type === "hello") {
    show.state = data.state ?? null;
    show.comments = [...(show.state?.comments ?? [])];
  } else if (type === "state") {
    show.state = data;
  } else if (type === "showing") {
    if (show.state) show.state.showing = data;
  } else if (type === "counts") {
    if (show.state) Object.assign(show.state, data);
  } else if (type === "comment") {
    show.comments.push(data);
    show.comments.splice(0, show.comments.length - MAX_COMMENTS);
  } else if (type === "host") {
    show.host = data;
  } else if (type === "board") {
    show.board = data;
    show.boardAt = Date.now();
    return renderBoard();
  } else if (type === "ended") {
    return showEnded();
  }
  if (show.state?.ended) return showEnded();
  renderShow();
}

// -- the live board -------------------------------------------------------------------------------------------

const BOARD_ROWS = 8;
const SVG_NS = "http://www.w3.org/2000/svg";
const TREND_ARROWS = { up: "▲", flat: "▬", down: "▼" };

const fmtNumber = (x) => (typeof x === "number" ? new Intl.NumberFormat(LOCALES[getLang()]).format(x) : "–");
const fmtPercent = (x) => (typeof x === "number" ? new Intl.NumberFormat(LOCALES[getLang()], { style: "percent", maximumFractionDigits: 0 }).format(x) : "–");

function fmtDwell(s) {
  if (typeof s !== "number") return "–";
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s - m * 60)).padStart(2, "0")}`;
}

/** Seconds ago, in the page's language ("2 min ago", "il y a 2 min", "2分钟前"). */
function fmtAgo(seconds) {
  const rtf = new Intl.RelativeTimeFormat(LOCALES[getLang()], { numeric: "auto", style: "short" });
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return rtf.format(-s, "second");
  if (s < 3600) return rtf.format(-Math.floor(s / 60), "minute");
  return rtf.format(-Math.floor(s / 3600), "hour");
}

const productName = (id) => app.catalog.get(id)?.name ?? id;

/** The product's picture, as on its card: the catalog's thumbnail, else its kind's icon in its shade. */
function boardThumb(id) {
  const p = app.catalog.get(id);
  const thumb = h("span", { class: "board-thumb", "aria-hidden": "true" });
  if (p) fillThumb(thumb, p);
  return thumb;
}

/** Tries per minute over the last 15 minutes (oldest first) as a small inline SVG line. */
function sparkline(values) {
  const counts = Array.isArray(values) ? values.map((x) => (Number.isFinite(x) ? Math.max(0, x) : 0)) : [];
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", "0 0 60 20");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  if (counts.length < 2) return svg;
  const top = Math.max(1, ...counts);
  const pts = counts.map((c, i) => [(i / (counts.length - 1)) * 58 + 1, 18.5 - (c / top) * 17]);
  const line = document.createElementNS(SVG_NS, "polyline");
  line.setAttribute("class", "spark-line");
  line.setAttribute("points", pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "));
  const dot = document.createElementNS(SVG_NS, "circle");
  dot.setAttribute("class", "spark-dot");
  dot.setAttribute("cx", pts.at(-1)[0].toFixed(1));
  dot.setAttribute("cy", pts.at(-1)[1].toFixed(1));
  dot.setAttribute("r", "1.8");
  svg.append(line, dot);
  return svg;
}

function boardRow(r, showing) {
  const id = String(r.product);
  const label = r.trend_label in TREND_ARROWS ? r.trend_label : "flat";
  const cell = (name, text, title) => h("td", { class: `board-num board-${name}`, "data-stat": name, title }, h("span", { class: "board-value", text }));
  return h("tr", { class: id === showing ? "board-row is-showing" : "board-row", "data-product-id": id },
    h("th", { scope: "row", class: "board-product" },
      h("span", { class: "board-item" }, boardThumb(id),
        h("span", { class: "board-name-wrap" },
          h("span", { class: "board-name", text: productName(id) }),
          id === showing && h("span", { class: "board-live", text: t("board.showing") })))),
    cell("tries", fmtNumber(r.tries)),
    cell("buys", fmtNumber(r.buys)),
    cell("conversion", fmtPercent(r.conversion)),
    cell("dwell", fmtDwell(r.median_dwell_s)),
    cell("likes", fmtNumber(r.likes_showing)),
    cell("mentions", fmtNumber(r.mentions)),
    h("td", { class: `board-trend trend-${label}`, "data-trend": label, title: t(`board.trend.${label}`) },
      h("span", { class: "trend-arrow", "aria-label": t(`board.trend.${label}`), role: "img", text: TREND_ARROWS[label] }),
      sparkline(r.spark)));
}

function renderBoard() {
  const b = show.board;
  const rows = show.id && Array.isArray(b?.products) ? b.products.slice(0, BOARD_ROWS) : [];
  el.boardRows.replaceChildren(...rows.map((r) => boardRow(r, b.showing)));
  el.board.hidden = rows.length === 0;
  el.boardEmpty.hidden = rows.length > 0;
  el.boardTotals.textContent = show.id && b ? t("board.totals", { likes: fmtNumber(b.likes), comments: fmtNumber(b.comments) }) : "";
  renderQuestions();
  studio.board = show.id && b ? { showing: b.showing, top: b.top, products: rows, likes: b.likes, comments: b.comments } : null;
}

/** The questions waiting, oldest first; items are kept (not rebuilt) so a button keeps its focus. */
function renderQuestions() {
  const b = show.board;
  const waiting = show.id && Array.isArray(b?.questions) ? b.questions.filter((q) => !show.answered.has(q.id)) : [];
  const now = (b?.at ?? 0) + (Date.now() - show.boardAt) / 1000; // the server's clock, moved on since the board came
  const byId = new Map([...el.questions.children].map((li) => [li.dataset.questionId, li]));
  const items = waiting.map((q) => {
    const li = byId.get(String(q.id)) ?? questionItem(q);
    li.querySelector(".question-ago").textContent = typeof q.at === "number" ? fmtAgo(now - q.at) : "";
    return li;
  });
  // Only the order and the membership change: move what moved, drop what left.
  items.forEach((li, i) => { if (el.questions.children[i] !== li) el.questions.insertBefore(li, el.questions.children[i] ?? null); });
  while (el.questions.children.length > items.length) el.questions.lastElementChild.remove();
  el.questionsEmpty.hidden = waiting.length > 0;
  el.questionsCount.hidden = waiting.length === 0;
  el.questionsCount.textContent = fmtNumber(waiting.length);
  studio.questions = waiting.map((q) => ({ id: q.id, text: q.text, products: q.products }));
}

function questionItem(q) {
  const about = (Array.isArray(q.products) ? q.products : []).map((id) => h("span", { class: "question-product", "data-product-id": id, text: productName(id) }));
  const done = h("button", { type: "button", class: "btn btn-secondary btn-small question-done", text: t("board.answered") });
  done.addEventListener("click", () => answerQuestion(q.id, done));
  return h("li", { class: "question", "data-question-id": String(q.id) },
    h("p", { class: "question-text", text: String(q.text ?? "") }),
    h("p", { class: "question-meta" }, ...about),
    h("span", { class: "question-ago muted" }),
    done);
}

async function answerQuestion(id, button) {
  if (!show.id || !show.key) return;
  button.disabled = true;
  try {
    const resp = await fetch(api(`/questions/${encodeURIComponent(id)}/answered`), { method: "POST", headers: bearer(show.key) });
    // 404: it already left the queue (answered from another tab).
    if (!resp.ok && resp.status !== 404) throw new Error(await errorText(resp));
    show.answered.add(id);
    renderQuestions();
  } catch (err) {
    button.disabled = false;
    showMessage({ kind: "error", lines: [{ key: "board.err.answered" }], detail: err?.message });
  }
}

// -- the microphone: the show's sound -----------------------------------------------------------------------
// live.js asks for it after the camera (app.microphone) and sends it on the host's peer connection. Muting
// disables the track (viewers hear silence); the choice outlives going live again.

const MIC_POLL_MS = 300;
const mic = { reason: null, muted: false, sent: 0, level: 0 };
const micTrack = () => app.cam?.stream?.getAudioTracks()[0] ?? null;

/** "off" (no camera), "on", "muted", "refused" (not allowed), "none" (no microphone, or it went away). */
function micState() {
  if (app.mode !== "camera" || !app.cam) return "off";
  const track = micTrack();
  if (!track) return mic.reason ?? "none";
  if (track.readyState === "ended") return "none";
  return track.enabled ? "on" : "muted";
}

function onMicrophone(state, track, err) {
  mic.reason = state === "on" ? null : state;
  mic.sent = mic.level = 0;
  if (track) {
    track.enabled = !mic.muted;
    track.addEventListener("ended", renderMic);
  } else {
    showMessage({ kind: "info", lines: [{ key: state === "refused" ? "studio.err.micRefused" : "studio.err.micMissing" }], detail: err?.message || null });
  }
  renderMic();
}

function toggleMic() {
  mic.muted = !mic.muted;
  const track = micTrack();
  if (track) track.enabled = !mic.muted;
  if (mic.muted) mic.level = 0;
  renderMic();
}

/** What the host's connection sends: audio packets, and the microphone's level (for the meter). */
async function pollMic() {
  const pc = app.cam?.pc;
  if (!pc || !micTrack() || pc.connectionState !== "connected") return;
  let report;
  try { report = await pc.getStats(); } catch { return; }
  if (app.cam?.pc !== pc) return;
  report.forEach((s) => {
    if (s.type === "outbound-rtp" && s.kind === "audio") mic.sent = s.packetsSent ?? 0;
    else if (s.type === "media-source" && s.kind === "audio" && typeof s.audioLevel === "number") mic.level = s.audioLevel;
  });
  if (!micTrack()?.enabled) mic.level = 0;
  renderMic();
}

function renderMic() {
  const st = micState();
  const usable = st === "on" || st === "muted";
  el.mic.hidden = st === "off";
  el.mic.dataset.mic = st;
  el.micToggle.hidden = !usable;
  el.micToggle.setAttribute("aria-pressed", String(st === "muted"));
  el.micLevel.hidden = st !== "on";
  // audioLevel is linear (0..1); its square root looks like what one hears.
  el.micLevelBar.style.width = `${Math.round(Math.min(1, Math.sqrt(st === "on" ? mic.level : 0)) * 100)}%`;
  if (st !== "off") el.micStatus.textContent = t(`studio.mic.${st}`);
  el.micBadge.hidden = st === "off" || st === "on";
  el.micBadge.dataset.mic = st;
  el.micBadgeText.textContent = t(st === "muted" ? "studio.micBadge.muted" : "studio.micBadge.silent");
  studio.mic = { state: st, muted: mic.muted, packetsSent: st === "off" ? 0 : mic.sent, level: mic.level };
}

// -- streaming from OBS (WHIP) and watching with any player (WHEP) ------------------------------------------

function renderObs(active) {
  el.obsPanel.hidden = !active;
  el.obsWhip.value = active ? new URL("/whip", location.origin).href : "";
  el.obsWhep.value = active ? new URL(`/whep/${encodeURIComponent(show.id)}`, location.origin).href : "";
  // The show's key: only this tab has it (sessionStorage); shown masked unless the host reveals it.
  el.obsKey.value = active ? show.key ?? "" : "";
  if (!active) revealKey(false);
}

function revealKey(on) {
  el.obsKey.type = on ? "text" : "password";
  el.revealKey.setAttribute("aria-pressed", String(on));
}

/** Copy the field a copy button names (data-copy), saying so on the button for a moment. */
async function copyField(button) {
  const input = el[button.dataset.copy.replace(/-(\w)/g, (_, c) => c.toUpperCase())];
  if (!input?.value) return;
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    // No clipboard API (an insecure origin): select the text and copy it the old way; a password
    // field is never copied that way, so the key is unmasked for that moment.
    const masked = input.type === "password";
    if (masked) input.type = "text";
    input.select();
    document.execCommand?.("copy");
    if (masked) input.type = "password";
  }
  button.textContent = t("studio.copied");
  clearTimeout(button.copiedTimer);
  button.copiedTimer = setTimeout(() => { button.textContent = t("studio.copy"); }, 2000);
}

// -- "now showing" -----------------------------------------------------------------------------------------

async function putShowing(product, shade) {
  if (!show.id || show.ended) return;
  try {
    const body = product ? { product, ...(shade ? { shade } : {}) } : { product: null };
    const resp = await fetch(api("/showing"), { method: "PUT", headers: bearer(show.key, { "Content-Type": "application/json" }), body: JSON.stringify(body) });
    if (!resp.ok) throw new Error(await errorText(resp));
    const state = await resp.json();
    if (show.state && state && "showing" in state) show.state.showing = state.showing;
    renderShow();
  } catch (err) {
    showMessage({ kind: "error", lines: [{ key: "studio.err.showing" }], detail: err?.message });
  }
}

/** The product the host wears and looks at now: the focused one if in the look, else the look's last. */
function wearing() {
  const item = app.look.find((i) => i.productId === app.focusedId) ?? app.look.at(-1);
  return item ? { product: item.productId, shade: item.variantId } : null;
}

function fillShowingPicker() {
  const chosen = el.showingProduct.value;
  el.showingProduct.replaceChildren(h("option", { value: "", text: t("studio.pickProduct") }),
    ...app.products.map((p) => h("option", { value: p.id, text: [p.name, p.brand].filter(Boolean).join(" · ") })));
  el.showingProduct.value = app.catalog.has(chosen) ? chosen : "";
  fillShadePicker();
}

function fillShadePicker() {
  const p = app.catalog.get(el.showingProduct.value);
  const variants = p?.variants ?? [];
  el.showingShade.replaceChildren(...variants.map((v) => h("option", { value: v.id, text: v.name ?? v.id })));
  el.showingShade.disabled = variants.length === 0;
}

function formatPrice(price, currency) {
  if (typeof price !== "number") return "";
  try { return new Intl.NumberFormat(LOCALES[getLang()], { style: "currency", currency: currency || "EUR" }).format(price); } catch { return `${price} ${currency ?? ""}`.trim(); }
}

function renderShowingCurrent() {
  const s = show.state?.showing;
  if (!s?.product) return el.showingCurrent.replaceChildren(h("p", { class: "muted", text: t("studio.showingNone") }));
  const dot = h("span", { class: "showing-swatch", "aria-hidden": "true" });
  dot.style.background = safeColor(s.swatch);
  const shade = app.catalog.get(s.product)?.variants?.find((v) => v.id === s.shade)?.name ?? s.shade;
  el.showingCurrent.replaceChildren(h("div", { class: "showing-line", "data-product-id": s.product }, dot,
    h("span", { class: "showing-name", text: [s.name ?? s.product, shade].filter(Boolean).join(" · ") }),
    h("span", { class: "showing-price muted", text: formatPrice(s.price, s.currency) })));
}

// -- drawing the show ----------------------------------------------------------------------------------------

function status() {
  if (!show.id) return "none";
  if (show.ended) return "ended";
  return show.state?.live || app.state === "live" ? "live" : "ready";
}

function renderNumbers() {
  const s = show.state ?? {};
  const fmt = (x) => (typeof x === "number" ? new Intl.NumberFormat(LOCALES[getLang()]).format(x) : "–");
  el.numViewers.textContent = fmt(s.viewers);
  el.numPeak.textContent = fmt(s.peak);
  el.numLikes.textContent = fmt(s.likes);
  // Comments are numbered from 1 in each show: the newest one's id is how many there were.
  el.numComments.textContent = show.id ? fmt(Math.max(0, ...show.comments.map((c) => Number(c.id) || 0))) : "–";
  // The stream: the server's figures for the show (host events), else the control channel's stats.
  const live = app.state === "live" || show.state?.live;
  const fps = show.host?.fps ?? app.lastStats?.fps_out;
  const latency = show.host?.latency_ms ?? app.lastStats?.latency_ms;
  el.numFps.textContent = live && typeof fps === "number" ? num(fps) : "–";
  el.numLatency.textContent = live && typeof latency === "number" ? `${num(latency, 0)} ms` : "–";
}

function renderComments() {
  // A question (the server's analysis) gets a marker: the host may want to answer it on camera.
  el.comments.replaceChildren(...show.comments.slice(-20).map((c) => h("li", { class: c.question === true ? "comment is-question" : "comment", "data-comment-id": c.id },
    c.question === true && h("span", { class: "question-mark", role: "img", title: t("board.question"), "aria-label": t("board.question"), text: "?" }),
    h("span", { class: "comment-author", text: String(c.author ?? "") }), " ", h("span", { class: "comment-text", text: String(c.text ?? "") }))));
  el.commentsEmpty.hidden = show.comments.length > 0;
  el.comments.scrollTop = el.comments.scrollHeight;
}

function renderShow() {
  const st = status();
  const active = st === "ready" || st === "live";
  document.body.dataset.show = st;
  el.showStatus.dataset.kind = st;
  el.showStatus.textContent = st === "none" ? "" : t(`studio.status.${st}`);
  el.keyForm.hidden = !!show.id;
  el.showInfo.hidden = !show.id;
  el.showName.textContent = show.title || t("studio.untitled");
  el.showId.textContent = show.id ?? "";
  el.endShow.hidden = !active;
  el.leaveShow.hidden = st !== "ended";
  el.startShow.textContent = t(el.resumeId.value.trim() ? "studio.resumeShow" : "studio.startShow");
  el.startCamera.disabled = !active;
  el.startText.textContent = t(active ? "studio.readyText" : st === "ended" ? "studio.endedText" : "studio.needShow");
  for (const b of [el.showingSet, el.showingClear]) b.disabled = !active;
  el.showingSet.disabled = !active || !el.showingProduct.value;
  el.showingWearing.disabled = !active || !wearing();
  el.previewVideo.hidden = !(app.state === "live" && app.cam?.stream);
  if (!el.previewVideo.hidden && el.previewVideo.srcObject !== app.cam.stream) el.previewVideo.srcObject = app.cam.stream;
  else if (el.previewVideo.hidden) el.previewVideo.srcObject = null;
  renderShowingCurrent();
  renderNumbers();
  renderComments();
  renderMic();
  renderObs(active);
  renderBoard();
  Object.assign(studio, { id: show.id, status: st, showing: show.state?.showing ?? null, host: show.host,
    counts: { viewers: show.state?.viewers, peak: show.state?.peak, likes: show.state?.likes }, comments: show.comments.map((c) => c.text) });
}

// -- language ------------------------------------------------------------------------------------------------

function applyLang(lang, save) {
  setLang(lang);
  document.documentElement.lang = el.lang.value = getLang();
  if (save) { try { localStorage.setItem(LANG_KEY, getLang()); } catch { /* storage blocked */ } }
  applyTranslations();
  renderFilters();
  renderProducts();
  renderLook();
  renderDetail(true);
  renderMessage();
  renderStats();
  updateUI();
  fillShowingPicker();
  el.questions.replaceChildren(); // rebuilt in the new language
  renderShow();
}

// -- start-up ------------------------------------------------------------------------------------------------

async function loadConfig() {
  app.config = await fetchConfig(app.config);
}

function bindEvents() {
  const on = (node, type, fn) => node.addEventListener(type, fn);
  on(el.lang, "change", () => applyLang(el.lang.value, true));
  on(el.keyForm, "submit", startShow);
  on(el.resumeId, "input", renderShow);
  on(el.endShow, "click", endShow);
  on(el.leaveShow, "click", leaveShow);
  for (const button of document.querySelectorAll("button[data-copy]")) on(button, "click", () => copyField(button));
  on(el.revealKey, "click", () => revealKey(el.obsKey.type === "password"));
  on(el.micToggle, "click", toggleMic);
  on(el.startCamera, "click", () => show.id && !show.ended && startCamera());
  on(el.stop, "click", stopCamera);
  on(el.showingProduct, "change", () => { fillShadePicker(); renderShow(); });
  on(el.showingSet, "click", () => putShowing(el.showingProduct.value, el.showingShade.value || null));
  on(el.showingClear, "click", () => putShowing(null));
  on(el.showingWearing, "click", () => {
    const w = wearing();
    if (!w) return;
    el.showingProduct.value = w.product;
    fillShadePicker();
    if (w.shade) el.showingShade.value = w.shade;
    putShowing(w.product, w.shade);
  });

  // The catalog rail and the try-on controls, as on the shopper's page (app.js).
  on(el.products, "click", (e) => {
    if (e.target.closest("a.buy")) return;
    const card = e.target.closest(".product-card");
    const select = card?.querySelector(".card-select");
    if (select && select.getAttribute("aria-disabled") !== "true") selectProduct(card.dataset.productId);
    renderShow();
  });
  on(el.kindFilters, "click", (e) => {
    const chip = e.target.closest(".kind-chip");
    if (!chip) return;
    app.filter = chip.dataset.group;
    for (const c of el.kindFilters.children) c.setAttribute("aria-pressed", String(c === chip));
    updateCards();
  });
  on(el.shades, "click", (e) => {
    const swatch = e.target.closest(".swatch");
    if (swatch) selectShade(swatch.dataset.variantId);
    renderShow();
  });
  on(el.look, "click", (e) => {
    const item = e.target.closest(".look-item");
    if (item && e.target.closest(".look-remove")) {
      const index = [...el.look.children].indexOf(item);
      removeFromLook(item.dataset.productId);
      renderLook(index);
    } else if (item && e.target.closest(".look-name")) {
      app.focusedId = item.dataset.productId;
      updateCards();
      renderDetail();
    }
    renderShow();
  });
  on(el.lookClear, "click", () => { app.look = []; lookChanged(); renderShow(); });
  on(el.intensity, "input", () => { app.intensity = Number(el.intensity.value) / 100; updateUI(); if (app.mode === "camera") intensityThrottled(); });
  on(el.intensity, "change", () => intensityThrottled.flush());
  on(el.split, "input", () => { updateSplitView(); splitThrottled(); });
  on(el.split, "change", () => splitThrottled.flush());
  on(el.compareToggle, "change", () => { updateUI(); if (app.mode === "camera") sendSplit(); });
  on(el.mirror, "change", () => { updateUI(); if (app.mode === "camera" && el.compareToggle.checked) sendSplit(); });
  on(el.pause, "change", () => { updateUI(); if (app.mode === "camera") sendPause(); });

  for (const [node, type] of [[el.remoteVideo, "resize"], [el.remoteVideo, "loadedmetadata"], [window, "resize"]]) on(node, type, layoutStage);
  if (window.ResizeObserver) new ResizeObserver(layoutStage).observe(el.stage);
  // The shared modules draw the camera's state on <body data-state>: follow it (go-live status, preview).
  new MutationObserver(renderShow).observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
  const leave = () => { app.gen += 1; teardownCamera(); show.stream?.abort(); };
  on(window, "pagehide", leave);
  on(document, "keydown", (e) => { if (e.key === "Escape" && app.message && !app.message.sticky) clearMessage(); });
}

function init() {
  for (const node of document.querySelectorAll("[id]")) el[node.id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
  app.intensity = Number(el.intensity.value) / 100;
  // The host's microphone goes with their camera: the show's sound (never on the shopper's page).
  app.microphone = true;
  app.onMicrophone = onMicrophone;
  initHud(); // the developers' HUD: ?hud=1 (?debug=1), Shift+D or the Stats switch
  let stored = null;
  try { stored = localStorage.getItem(LANG_KEY); } catch { /* storage blocked */ }
  bindEvents();
  applyLang(LANGS.includes(stored) ? stored : pickLang(navigator.languages?.length ? navigator.languages : [navigator.language]), false);
  app.ready = Promise.all([loadConfig(), loadCatalog()]).then(() => { fillShowingPicker(); renderShow(); });
  // A reload of this tab resumes its show.
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(SHOW_KEY) || "null"); } catch { /* storage blocked or garbled */ }
  if (saved?.id && saved?.key) openShow(saved);
  setInterval(() => { pollBrowserStats(); renderNumbers(); renderQuestions(); }, 1000);
  setInterval(pollMic, MIC_POLL_MS);
}

init();
