// tryon: a viewer's page of a live show (/show/<id>), phone-sized first.
//   the show's video   watch.js (the server's or SFU's offer, answered without trickle)
//   live state         EventSource on /api/shows/<id>/events: hello (the viewer token), state, showing,
//                      counts, comment, ended (docs/show.md)
//   likes, comments    POST with X-Viewer-Token; comments are text, put in with textContent only
//   "Try it on me"     tryme.js: the viewer's own camera wearing the product now showing; the show goes on
//                      in a picture-in-picture corner, its sound muted meanwhile
//   the show's sound   the video plays muted (autoplay); "Tap for sound" unmutes it (a user gesture)
//   engagement         engage.js: impression (the card shows a product, once each), buy_click, share, a watch
//                      heartbeat every 30 s while the show plays in sight, batched to POST /api/events;
//                      promotions (push event `promotion`, or the try-on's control channel) as a banner
import { LANGS, LOCALES, applyTranslations, getLang, pickLang, setLang, t } from "/static/i18n.js";
import { errorText, fetchConfig, h, safeColor } from "/static/util.js";
import { WatchRefused, watchShow } from "/static/watch.js";
import { TryError, tryOn } from "/static/tryme.js";
import { EventQueue, promotions, renderPromotion, showPromotion } from "/static/engage.js";

const LANG_KEY = "tryon.lang";
const MAX_COMMENTS = 20;
const MAX_COMMENT_CHARS = 200;
const RETRY_MS = { lost: 2000, failed: 3000, full: 10000, events: 3000 };
const TOAST_MS = 6000;
const WATCH_HEARTBEAT_MS = 30000;

const el = {};
const showId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? "");
const api = (path = "") => `/api/shows/${encodeURIComponent(showId)}${path}`;

const v = {
  config: { camera: { width: 640, height: 480 }, ice_servers: [] },
  state: null, // the show's public state, kept up to date by the events
  missing: false, token: null, events: null, comments: [],
  watch: null, watchAttempt: null, watchBusy: false, watchState: "none", watchError: null, watchTimer: null,
  tryHandle: null, tryAttempt: null, tryState: "none", tryLook: [],
  sound: false, // the viewer asked for the show's sound
  toastTimer: null,
  seen: new Set(), // products the card has shown (one impression each)
};
// What only this page sees, sent as the viewer (the push channel's token).
const events = new EventQueue({ headers: () => (v.token ? { "X-Viewer-Token": v.token } : null) });
// What tests and tools read.
const show = (window.show = { id: showId, status: "loading", watch: "none", showing: null, counts: {}, comments: [],
  answer: null, tryState: "none", tryHello: null, tryAcks: [], sound: false, events: events.stats, promotions });

// -- small helpers ---------------------------------------------------------------------------------------------

function status() {
  if (v.missing) return "missing";
  if (!v.state) return "loading";
  if (v.state.ended) return "ended";
  return v.state.live ? "live" : "waiting";
}

const specOf = (s) => (s?.product ? s.spec ?? (s.shade ? `${s.product}:${s.shade}` : s.product) : null);

function formatPrice(price, currency) {
  if (typeof price !== "number") return "";
  try { return new Intl.NumberFormat(LOCALES[getLang()], { style: "currency", currency: currency || "EUR" }).format(price); } catch { return `${price} ${currency ?? ""}`.trim(); }
}

const formatCount = (n) => new Intl.NumberFormat(LOCALES[getLang()], { notation: n >= 10000 ? "compact" : "standard" }).format(n ?? 0);

/** A short message at the bottom of the page: `key` (i18n) and an optional detail. */
function toast(key, { detail = null, kind = "info", vars } = {}) {
  clearTimeout(v.toastTimer);
  el.message.dataset.kind = kind;
  el.message.replaceChildren(
    h("div", { class: "message-text" }, h("p", { text: t(key, vars) }), detail && h("p", { class: "message-detail", text: detail })),
    h("button", { type: "button", class: "message-close", "aria-label": t("msg.dismiss"), title: t("msg.dismiss"), text: "×", onclick: clearToast }));
  v.toastTimer = setTimeout(clearToast, TOAST_MS);
}

function clearToast() { clearTimeout(v.toastTimer); el.message.replaceChildren(); el.message.removeAttribute("data-kind"); }

// -- the push channel ----------------------------------------------------------------------------------------------

function openEvents() {
  v.events?.close();
  const es = (v.events = new EventSource(api("/events")));
  const on = (type, fn) => es.addEventListener(type, (e) => {
    if (v.events !== es) return;
    let data;
    try { data = JSON.parse(e.data); } catch { return; }
    fn(data);
  });
  on("hello", (d) => { v.token = d.viewer ?? v.token; applyState(d.state); });
  on("state", (d) => applyState(d));
  on("showing", (d) => { if (v.state) v.state.showing = d; render(); });
  on("counts", (d) => { if (v.state) Object.assign(v.state, d); render(); });
  on("comment", (d) => { v.comments.push(d); v.comments.splice(0, v.comments.length - MAX_COMMENTS); renderComments(); });
  on("ended", () => { if (v.state) v.state.ended = true; ended(); });
  on("promotion", promote);
  es.onerror = () => {
    // EventSource reconnects by itself after a dropped connection; a refused one (closed) is retried here.
    if (v.events === es && es.readyState === EventSource.CLOSED && status() !== "ended") {
      v.events = null;
      setTimeout(() => status() !== "ended" && !v.events && openEvents(), RETRY_MS.events);
    }
  };
}

function applyState(state) {
  if (!state) return;
  v.state = state;
  if (Array.isArray(state.comments)) v.comments = state.comments.slice(-MAX_COMMENTS);
  if (state.ended) return ended();
  render();
  renderComments();
  ensureWatch();
}

// -- the show's video ---------------------------------------------------------------------------------------------

function ensureWatch() {
  clearTimeout(v.watchTimer);
  v.watchTimer = null;
  if (status() !== "live") return stopWatch();
  if (v.watch || v.watchBusy || !v.token) return;
  startWatch();
}

async function startWatch() {
  const attempt = (v.watchAttempt = {}); // stopWatch() or a newer attempt makes this one stale
  v.watchBusy = true;
  v.watchError = null;
  try {
    const handle = await watchShow({
      id: showId, token: v.token, video: el.showVideo, iceServers: v.config.ice_servers ?? [],
      onState: (state, info) => {
        if (v.watchAttempt !== attempt) return;
        if (state === "answering") { show.answer = info; return; }
        setWatchState(state);
        if (state === "lost") {
          stopWatch();
          v.watchTimer = setTimeout(ensureWatch, RETRY_MS.lost);
        }
      },
    });
    if (v.watchAttempt !== attempt) return handle.close();
    v.watch = handle;
  } catch (err) {
    if (v.watchAttempt !== attempt) return;
    v.watchAttempt = null;
    const full = err instanceof WatchRefused && err.status === 503;
    v.watchError = err?.message ?? String(err);
    setWatchState(full ? "full" : "failed");
    v.watchTimer = setTimeout(ensureWatch, full ? RETRY_MS.full : RETRY_MS.failed);
  } finally {
    v.watchBusy = false;
    if (v.watchAttempt !== attempt && v.watchAttempt === null && !v.watchTimer) ensureWatch();
  }
}

function stopWatch(keepalive = false) {
  v.watchAttempt = null;
  v.watch?.close(keepalive);
  v.watch = null;
  if (v.watchState !== "none") setWatchState("none");
}

function setWatchState(state) { v.watchState = state; render(); }

// -- likes and comments ---------------------------------------------------------------------------------------------

async function post(path, body) {
  return fetch(api(path), { method: "POST", headers: { "Content-Type": "application/json", "X-Viewer-Token": v.token ?? "" }, body: JSON.stringify(body) });
}

async function like() {
  if (!v.token || status() === "ended") return;
  el.like.classList.remove("pop");
  void el.like.offsetWidth; // restart the animation
  el.like.classList.add("pop");
  try {
    const resp = await post("/likes", {});
    if (resp.status === 429) toast("show.slowDown");
    else if (!resp.ok) toast("show.err.like", { kind: "error", detail: await errorText(resp) });
  } catch (err) {
    toast("show.err.like", { kind: "error", detail: err?.message });
  }
}

async function sendComment(e) {
  e.preventDefault();
  const text = el.commentInput.value.trim();
  if (!text || !v.token || status() === "ended") return;
  el.commentSend.disabled = true;
  try {
    const resp = await post("/comments", { text });
    if (resp.ok) {
      el.commentInput.value = "";
    } else if (resp.status === 429) {
      toast("show.slowDown");
    } else if (resp.status === 413) {
      toast("show.tooLong", { vars: { max: MAX_COMMENT_CHARS } });
    } else {
      toast("show.err.comment", { kind: "error", detail: await errorText(resp) });
    }
  } catch (err) {
    toast("show.err.comment", { kind: "error", detail: err?.message });
  } finally {
    renderForm();
  }
}

// -- "Try it on me" --------------------------------------------------------------------------------------------------

async function tryIt() {
  const spec = specOf(v.state?.showing);
  if (!spec || status() === "ended" || status() === "missing") return;
  if (v.tryHandle) { // already trying: put the product now showing on instead
    if (v.tryHandle.setLook([spec])) v.tryLook = [spec];
    return render();
  }
  if (v.tryState !== "none") return;
  const attempt = (v.tryAttempt = {}); // backToShow() makes it stale
  v.tryState = "starting";
  v.tryLook = [spec];
  show.tryHello = null;
  show.tryAcks = [];
  render();
  try {
    const handle = await tryOn({
      look: [spec], video: el.tryVideo, headers: { "X-Viewer-Token": v.token ?? "" }, camera: v.config.camera, iceServers: v.config.ice_servers ?? [],
      onMessage: (msg) => {
        if (v.tryAttempt !== attempt) return;
        if (msg.type === "hello") show.tryHello = msg;
        else if (msg.type === "ack") show.tryAcks.push(msg);
        else if (msg.type === "promotion") promote(msg);
        else if (msg.type === "error") toast("err.server", { kind: "error", detail: String(msg.message ?? "") });
      },
      onState: (state) => {
        if (v.tryAttempt !== attempt) return;
        if (state === "live") { v.tryState = "live"; render(); }
        if (state === "lost") { toast("err.connectionLost", { kind: "error" }); backToShow(); }
      },
    });
    if (v.tryAttempt !== attempt) return handle.close(); // "Back to the show" while it was starting
    v.tryHandle = handle;
  } catch (err) {
    if (v.tryAttempt !== attempt) return;
    toast(err instanceof TryError ? err.key : "err.connectFailed", { kind: "error", detail: err?.detail ?? err?.message });
    backToShow();
  }
}

function backToShow() {
  v.tryAttempt = null;
  v.tryHandle?.close();
  v.tryHandle = null;
  v.tryState = "none";
  v.tryLook = [];
  render();
  el.tryOn.focus?.();
}

// -- engagement: buy, share, watching, promotions --------------------------------------------------------------------

const showingFields = (s = v.state?.showing) => (s?.product ? { product: s.product, shade: s.shade ?? null } : null);

/** Buy opens the shop in a new tab: the click is counted first (keepalive: it outlives this page too). */
function buyClicked() {
  const fields = showingFields();
  if (!fields) return;
  events.add("buy_click", fields);
  events.flush({ keepalive: true });
}

/** Share the show: the system's share sheet where there is one, else its link copied. */
async function share() {
  const fields = showingFields();
  const url = location.href.split("#")[0];
  const title = v.state?.title || t("show.pageTitle");
  if (fields) events.add("share", fields);
  if (navigator.share) {
    try { await navigator.share({ title, url }); } catch { /* closed without sharing */ }
    return;
  }
  try {
    await navigator.clipboard.writeText(url);
    toast("show.linkCopied");
  } catch {
    toast("show.shareLink", { detail: url });
  }
}

/** Every 30 s while the show plays in sight: one heartbeat (the server counts watching time). */
function heartbeat() {
  const video = el.showVideo;
  if (status() !== "live" || v.watchState !== "playing" || v.tryState !== "none") return;
  if (document.visibilityState !== "visible" || video.paused) return;
  events.add("watch", showingFields() ?? {});
}

function promote(promo) {
  const name = (id) => (id && v.state?.showing?.product === id ? v.state.showing.name ?? null : null);
  showPromotion(promo, { productName: name });
}

// -- the show's sound ----------------------------------------------------------------------------------------------

/** Sound on or off; called from a click, so the browser lets the video play unmuted. */
function toggleSound() {
  v.sound = !v.sound;
  render();
  if (v.sound) el.showVideo.play?.().catch(() => {});
}

function renderSound(trying) {
  const video = el.showVideo;
  const audible = status() === "live" && v.watchState === "playing" && (video.srcObject?.getAudioTracks?.().length ?? 0) > 0;
  el.sound.hidden = !audible || trying;
  el.sound.dataset.sound = v.sound ? "on" : "off";
  // Off: the words say it ("Tap for sound"); on: a small speaker button that mutes again.
  if (v.sound) el.sound.setAttribute("aria-label", t("show.mute"));
  else el.sound.removeAttribute("aria-label");
  el.sound.title = v.sound ? t("show.mute") : t("show.unmute");
  // While "Try it on me" is open the show goes on in its corner, silent; "Back to the show" restores it.
  video.muted = !v.sound || trying;
  show.sound = !video.muted;
}

// -- drawing -----------------------------------------------------------------------------------------------------------

function ended() {
  v.events?.close();
  v.events = null;
  clearTimeout(v.watchTimer);
  stopWatch();
  render();
}

function renderCard() {
  const s = v.state?.showing;
  el.showingCard.hidden = !s?.product;
  if (!s?.product) return;
  el.showingCard.dataset.productId = s.product;
  if (!v.seen.has(s.product)) { // the card shows a product: one impression per product on this page
    v.seen.add(s.product);
    events.add("impression", showingFields(s));
  }
  el.showingName.textContent = s.name ?? s.product;
  el.showingBrand.textContent = s.brand ?? "";
  el.showingBrand.hidden = !s.brand;
  el.showingPrice.textContent = formatPrice(s.price, s.currency);
  el.showingSwatch.style.background = safeColor(s.swatch);
  el.showingSwatch.hidden = !s.swatch;
  el.showingShade.textContent = s.shade_name ?? s.shade ?? "";
  const thumb = typeof s.thumbnail === "string" && s.thumbnail.startsWith("/") && !s.thumbnail.startsWith("//") ? s.thumbnail : null;
  if (thumb && el.showingThumb.getAttribute("src") !== thumb) el.showingThumb.src = thumb;
  el.showingThumb.hidden = !thumb;
  const buy = /^https?:\/\//i.test(s.buy_url || "") ? s.buy_url : null;
  el.buy.hidden = !buy;
  if (buy) {
    el.buy.href = buy;
    el.buy.setAttribute("aria-label", t("products.buyLabel", { name: s.name ?? s.product }));
  }
  const spec = specOf(s);
  const wearing = v.tryState !== "none" && v.tryLook.includes(spec);
  el.tryOnLabel.textContent = t(v.tryState === "none" ? "show.tryOn" : wearing ? "show.wearing" : "show.tryThis");
  el.tryOn.disabled = wearing || v.tryState === "starting" || ["ended", "missing"].includes(status());
}

function renderComments() {
  el.comments.replaceChildren(...v.comments.map((c) => h("li", { class: "show-comment", "data-comment-id": c.id },
    h("span", { class: "comment-author", text: String(c.author ?? "") }), " ", h("span", { class: "comment-text", text: String(c.text ?? "") }))));
  el.comments.scrollTop = el.comments.scrollHeight;
  show.comments = v.comments.map((c) => c.text);
}

function renderForm() {
  const open = !!v.token && !["ended", "missing"].includes(status());
  const n = el.commentInput.value.length;
  el.commentCounter.textContent = `${n}/${MAX_COMMENT_CHARS}`;
  el.commentCounter.dataset.full = String(n >= MAX_COMMENT_CHARS);
  el.commentInput.disabled = !open;
  el.commentSend.disabled = !open || el.commentInput.value.trim() === "";
  el.like.disabled = !open;
}

function render() {
  const st = status();
  const trying = v.tryState !== "none";
  document.body.dataset.show = st;
  document.body.dataset.view = trying ? "try" : "show";
  const title = v.state?.title || t("show.pageTitle");
  el.showTitle.textContent = title;
  document.title = title;
  el.liveBadge.hidden = st !== "live";
  el.viewerCount.hidden = !v.state || st === "ended";
  el.viewerNumber.textContent = formatCount(v.state?.viewers);
  el.viewerCount.setAttribute("aria-label", t("show.viewers", { count: v.state?.viewers ?? 0 }));
  el.likeCount.textContent = formatCount(v.state?.likes);
  el.endedScreen.hidden = st !== "ended";
  el.tryVideo.hidden = !trying;
  el.backToShow.hidden = !trying;

  let text = null;
  let spinner = true;
  if (trying && v.tryState === "starting") text = t("show.tryStarting");
  else if (st === "loading") text = t("show.loading");
  else if (st === "missing") [text, spinner] = [t("show.missing"), false];
  else if (st === "waiting") text = t("show.waiting");
  else if (st === "live" && v.watchState === "full") [text, spinner] = [`${t("show.full")} ${v.watchError ?? ""}`.trim(), false];
  else if (st === "live" && v.watchState !== "playing" && !trying) text = t("show.connecting");
  el.stageStatus.hidden = !text;
  el.stageStatusText.textContent = text ?? "";
  el.stageSpinner.hidden = !spinner;

  renderCard();
  renderForm();
  renderSound(trying);
  Object.assign(show, { status: st, watch: v.watchState, showing: v.state?.showing ?? null, tryState: v.tryState,
    counts: { viewers: v.state?.viewers, peak: v.state?.peak, likes: v.state?.likes } });
}

// -- language and start-up ----------------------------------------------------------------------------------------------

function applyLang(lang, save) {
  setLang(lang);
  document.documentElement.lang = el.lang.value = getLang();
  if (save) { try { localStorage.setItem(LANG_KEY, getLang()); } catch { /* storage blocked */ } }
  applyTranslations();
  el.commentInput.placeholder = t("show.commentPlaceholder");
  render();
  renderPromotion();
}

async function loadConfig() {
  v.config = await fetchConfig(v.config);
}

async function loadShow() {
  try {
    const resp = await fetch(api(), { cache: "no-store" });
    if (resp.status === 404) { v.missing = true; return render(); }
    if (!resp.ok) throw new Error(await errorText(resp));
    applyState(await resp.json());
  } catch (err) {
    toast("show.err.load", { kind: "error", detail: err?.message });
  }
  if (status() !== "ended") openEvents();
}

function init() {
  for (const node of document.querySelectorAll("[id]")) el[node.id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
  let stored = null;
  try { stored = localStorage.getItem(LANG_KEY); } catch { /* storage blocked */ }
  const on = (node, type, fn) => node.addEventListener(type, fn);
  on(el.lang, "change", () => applyLang(el.lang.value, true));
  on(el.like, "click", like);
  on(el.commentForm, "submit", sendComment);
  on(el.commentInput, "input", renderForm);
  on(el.tryOn, "click", tryIt);
  on(el.backToShow, "click", backToShow);
  on(el.sound, "click", toggleSound);
  on(el.buy, "click", buyClicked);
  on(el.share, "click", share);
  on(document, "visibilitychange", () => document.visibilityState === "hidden" && events.flush({ keepalive: true }));
  setInterval(heartbeat, WATCH_HEARTBEAT_MS);
  on(document, "keydown", (e) => { if (e.key === "Escape") clearToast(); });
  on(window, "pagehide", () => { events.flush({ keepalive: true }); stopWatch(true); v.tryHandle?.close(); v.events?.close(); });
  applyLang(LANGS.includes(stored) ? stored : pickLang(navigator.languages?.length ? navigator.languages : [navigator.language]), false);
  // The config (ICE servers, camera size) before the first watch; the show's state meanwhile.
  loadConfig().then(loadShow);
}

init();
