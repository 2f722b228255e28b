// tryon: the shopper's page. Camera → WebRTC → server → processed video back; the look and the view
// options travel on the "control" data channel. Photo mode posts a still to /api/photo instead.
//
// Modules (plain ES modules, no build step; the server serves this folder at /static/):
//   app.js    start-up, language, and the wiring of the controls to the modules below
//   state.js  the shared state: `app` (mutable), `el` (elements by id), `tryon` (window.tryon)
//   util.js   helpers without state
//   rail.js   catalog, product cards, shades, the look; a changed look goes to live.js or photo.js
//   live.js   camera mode: camera, RTCPeerConnection, "control" data channel, stats polling
//   photo.js  photo mode: POST /api/photo
//   view.js   stage, controls and messages, drawn from `app`
//   hud.js    the developers' HUD: frame rates, latency, stages, provider, "record 10 s" (a trace)
//   engage.js engagement events (impression when a product's details open, buy_click) sent while a live
//             session exists (X-TryOn-Session), promotions from the control channel as a banner
//
// The details panel also shows "Tried this, also tried" and "Popular now" (GET /api/recommendations).
// The look is kept (local storage, and the address: ?product=... can be shared). Developers' settings:
// ?hud=1 (or Shift+D, remembered in the tab) turns the developers' HUD on (hud.js), with its Stats switch.
import { LANGS, applyTranslations, getLang, pickLang, setLang, t } from "/static/i18n.js";
import { app, el, tryon } from "/static/state.js";
import { download, errorText, fetchConfig, h, safeColor, throttle } from "/static/util.js";
import {
  filtersScrolled, loadCatalog, lookChanged, removeFromLook, renderDetail, renderFilters, renderItemIntensity, renderLook, renderProducts,
  selectProduct, selectShade, setItemIntensity, updateCards,
} from "/static/rail.js";
import { intensityThrottled, sendLook, sendPause, sendSplit, splitThrottled, startCamera, teardownCamera } from "/static/live.js";
import { choosePhoto, leavePhoto, schedulePhoto, startPhoto } from "/static/photo.js";
import {
  clearMessage, layoutStage, renderMessage, renderStats, setState, showMessage, updateSplitView, updateUI,
} from "/static/view.js";
import { EventQueue, promotions, renderPromotion, showPromotion } from "/static/engage.js";
import { initHud, pollBrowserStats } from "/static/hud.js";

const LANG_KEY = "tryon.lang";
const RECS_TTL_MS = 20000;
const RECS_SHOWN = 3;
const RECS_DELAY_MS = 400;
// A makeup item's own intensity: at most 10 look messages a second, the last value always sent.
const itemIntensityThrottled = throttle(() => app.mode === "camera" && sendLook(), 100);

// -- language ------------------------------------------------------------------------------------------

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
  renderPromotion();
  // Product names, descriptions and shades come in the page's language: asked again.
  if (app.catalogLoaded && app.catalogLang !== getLang()) loadCatalog();
}

// -- engagement: impressions, Buy, promotions, recommendations ------------------------------------------

// Sent as the live session (its id, from the offer's answer); without one they wait (a bounded few).
const events = new EventQueue({ headers: () => (app.cam?.session ? { "X-TryOn-Session": app.cam.session } : null) });
const impressed = new Set(); // one impression per product on this page
const variantIn = (id) => app.look.find((i) => i.productId === id)?.variantId ?? null;

function onDetail(p) {
  if (p && !impressed.has(p.id)) {
    impressed.add(p.id);
    events.add("impression", { product: p.id });
  }
  renderRecs(p);
}

/** The shop opens in a new tab: the click is counted first (keepalive: it outlives this page too). */
function buyClicked(id) {
  if (!app.catalog.has(id)) return;
  events.add("buy_click", { product: id, shade: variantIn(id) });
  events.flush({ keepalive: true });
}

// The recommendations of the product shown, for the look worn (what the session tried changes them).
const recs = { key: null, product: null, data: null, at: 0, timer: null, controller: null };
const recsKey = (id) => `${id} ${app.look.map((i) => i.productId).join(",")}`;

/** Fetch them a moment later: the look that was just sent on the control channel arrives first. */
function fetchRecs(id) {
  recs.controller?.abort();
  clearTimeout(recs.timer);
  // The same product's recommendations stay on screen until the new ones come.
  Object.assign(recs, { key: recsKey(id), product: id, data: recs.product === id ? recs.data : null, at: Date.now(), controller: null });
  const key = recs.key;
  recs.timer = setTimeout(async () => {
    const controller = (recs.controller = new AbortController());
    try {
      const resp = await fetch(`/api/recommendations?product=${encodeURIComponent(id)}`, { cache: "no-store", signal: controller.signal });
      if (!resp.ok) throw new Error(await errorText(resp));
      const data = await resp.json();
      if (recs.key !== key) return;
      Object.assign(recs, { data, at: Date.now() });
    } catch (err) {
      if (!controller.signal.aborted) console.warn("no recommendations", err);
      return;
    }
    renderRecs(app.catalog.get(app.focusedId) ?? null);
  }, RECS_DELAY_MS);
}

function recItem(id) {
  const p = app.catalog.get(id);
  const thumb = h("span", { class: "rec-thumb", "aria-hidden": "true" });
  if (p.thumbnail) thumb.append(h("img", { src: p.thumbnail, alt: "", loading: "lazy", decoding: "async" }));
  else thumb.style.background = safeColor(p.variants?.[0]?.color);
  const button = h("button", { type: "button", class: "rec", "data-product-id": id, title: p.name }, thumb, h("span", { class: "rec-name", text: p.name }));
  return h("li", {}, button);
}

/** "Tried this, also tried" and "Popular now" for product `p` (3 each at most; a click selects one). */
function renderRecs(p) {
  if (!p) { el.recs.hidden = true; return el.recs.replaceChildren(); }
  if (recs.key !== recsKey(p.id) || (recs.data && Date.now() - recs.at > RECS_TTL_MS)) fetchRecs(p.id);
  const usable = (ids) => (Array.isArray(ids) ? ids : []).filter((id) => id !== p.id && app.catalog.get(id)?.renderable).slice(0, RECS_SHOWN);
  const data = recs.product === p.id ? recs.data : null;
  const groups = [["also_tried", "recs.alsoTried"], ["popular_now", "recs.popular"]]
    .map(([field, key]) => [field, key, usable(data?.[field])]).filter(([, , ids]) => ids.length);
  el.recs.replaceChildren(...groups.map(([field, key, ids]) => h("div", { class: "recs-group", "data-recs": field },
    h("h3", { class: "recs-title", text: t(key) }), h("ul", { class: "recs-list" }, ...ids.map(recItem)))));
  el.recs.hidden = groups.length === 0;
  tryon.recs = Object.fromEntries(groups.map(([field, , ids]) => [field, ids]));
}

/**
 * Narrow screens (the video sticks to the top): a product picked on the rail brings the rail up under the video,
 * so the shades below it are in view too. Wide screens keep their shades in view by themselves.
 */
function shadesInView() {
  if (getComputedStyle(el.stage).position !== "sticky") return;
  const below = el.stage.getBoundingClientRect().bottom + 8;
  const rail = el.products.getBoundingClientRect();
  const shades = el.shades.getBoundingClientRect();
  if (rail.top >= below && shades.bottom <= innerHeight) return;
  window.scrollBy({ top: rail.top - below, behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
}

// -- actions on either mode: stop, snapshot -------------------------------------------------------------

function stopAll() {
  app.gen += 1;
  teardownCamera();
  leavePhoto();
  app.mode = "none";
  setState("idle");
}

/** `blob` (a PNG) as the preview shows it: mirrored when the preview is (a pair: each half, before stays left). */
async function asShown(blob, pair) {
  if (!el.mirror.checked || !window.createImageBitmap) return blob;
  const bitmap = await createImageBitmap(blob);
  const { width, height } = bitmap;
  const canvas = h("canvas", { width, height });
  const ctx = canvas.getContext("2d");
  const w = pair ? (el.remoteVideo.videoWidth && el.remoteVideo.videoWidth * 2 < width ? el.remoteVideo.videoWidth : Math.floor(width / 2)) : width;
  const parts = pair ? [[0, w], [width - w, w]] : [[0, width]];
  if (pair) ctx.drawImage(bitmap, 0, 0); // the divider between the halves
  for (const [x, pw] of parts) {
    ctx.save();
    ctx.translate(x + pw, 0);
    ctx.scale(-1, 1);
    ctx.drawImage(bitmap, x, 0, pw, height, 0, 0, pw, height);
    ctx.restore();
  }
  bitmap.close?.();
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b ?? blob), "image/png"));
}

async function snapshot() {
  if (app.mode === "photo") return app.photo?.resultBlob && download(app.photo.resultBlob, "tryon-photo.png");
  const session = app.cam?.session;
  if (!session) return;
  const pair = el.snapshotPair.checked ? 1 : 0;
  if (app.frozen && !pair) { // paused: the frozen picture itself
    const blob = await new Promise((resolve) => el.freeze.toBlob(resolve, "image/png"));
    if (blob) return download(await asShown(blob, false), "tryon.png");
  }
  app.snapshotBusy = true;
  updateUI();
  try {
    // Fetched rather than navigated to, so that an error can be shown; saved under the server's file name.
    // The frame on screen now, by its RTP timestamp (else the server takes the last frame it sent).
    const shown = app.frozen ? app.frozen.rtp : app.cam?.shownRtp;
    const rtp = Number.isInteger(shown) ? `&rtp=${shown}` : "";
    const resp = await fetch(`/api/sessions/${encodeURIComponent(session)}/snapshot.png?pair=${pair}${rtp}`, { cache: "no-store" });
    if (!resp.ok) throw new Error(await errorText(resp));
    const name = /filename\s*=\s*"?([^";]+)"?/i.exec(resp.headers.get("Content-Disposition") || "")?.[1].split(/[\\/]/).pop();
    download(await asShown(await resp.blob(), pair), name || (pair ? "tryon-pair.png" : "tryon.png"));
  } catch (err) {
    showMessage({ kind: "error", lines: [{ key: "err.snapshot" }], detail: err?.message });
  } finally {
    app.snapshotBusy = false;
    updateUI();
  }
}

// -- start-up ------------------------------------------------------------------------------------------

async function loadConfig() {
  app.config = await fetchConfig(app.config);
}

function bindEvents() {
  const on = (node, type, fn, opts) => node.addEventListener(type, fn, opts);
  on(el.startCamera, "click", startCamera);
  on(el.photoButton, "click", choosePhoto);
  on(el.photoChange, "click", choosePhoto);
  on(el.stop, "click", stopAll);
  on(el.snapshot, "click", snapshot);
  on(el.photoInput, "change", () => el.photoInput.files?.[0] && startPhoto(el.photoInput.files[0]));
  on(el.lang, "change", () => applyLang(el.lang.value, true));

  on(el.products, "click", (e) => {
    // Clicks anywhere on a card land on its stretched .card-select button (Enter/Space on it click too);
    // the Buy link sits above it and only opens the shop.
    const card = e.target.closest(".product-card");
    if (e.target.closest("a.buy")) return card && buyClicked(card.dataset.productId);
    const select = card?.querySelector(".card-select");
    if (select && select.getAttribute("aria-disabled") !== "true") {
      selectProduct(card.dataset.productId);
      shadesInView();
    }
  });
  on(el.kindFilters, "click", (e) => {
    const chip = e.target.closest(".kind-chip");
    if (!chip) return;
    app.filter = chip.dataset.group;
    for (const c of el.kindFilters.children) c.setAttribute("aria-pressed", String(c === chip));
    chip.scrollIntoView({ block: "nearest", inline: "nearest" });
    updateCards();
  });
  on(el.shades, "click", (e) => {
    const swatch = e.target.closest(".swatch");
    if (swatch) selectShade(swatch.dataset.variantId);
  });
  on(el.look, "click", (e) => {
    const item = e.target.closest(".look-item");
    if (item && e.target.closest("a.buy")) return buyClicked(item.dataset.productId);
    if (item && e.target.closest(".look-remove")) {
      const index = [...el.look.children].indexOf(item);
      removeFromLook(item.dataset.productId);
      renderLook(index);
    } else if (item && e.target.closest(".look-name")) {
      app.focusedId = item.dataset.productId;
      updateCards();
      renderDetail();
    }
  });
  on(el.productDetail, "click", (e) => {
    const buy = e.target.closest("a.detail-buy");
    if (buy) buyClicked(buy.dataset.productId);
  });
  on(el.itemIntensity, "input", () => {
    const id = el.itemIntensity.dataset.productId;
    if (!setItemIntensity(id, Number(el.itemIntensity.value) / 100)) return;
    renderItemIntensity(app.catalog.get(id));
    if (app.mode === "camera") itemIntensityThrottled();
    else if (app.mode === "photo") schedulePhoto();
  });
  on(el.itemIntensity, "change", () => itemIntensityThrottled.flush());
  on(el.kindFilters, "scroll", filtersScrolled, { passive: true });
  on(el.recs, "click", (e) => {
    const rec = e.target.closest(".rec");
    if (rec) selectProduct(rec.dataset.productId);
  });
  on(el.lookClear, "click", () => {
    app.look = [];
    lookChanged();
    el.products.querySelector(".product-card:not([hidden]) .card-select")?.focus();
  });

  on(el.intensity, "input", () => {
    app.intensity = Number(el.intensity.value) / 100;
    updateUI();
    if (app.mode === "camera") intensityThrottled();
    else if (app.mode === "photo") schedulePhoto();
  });
  on(el.intensity, "change", () => intensityThrottled.flush());
  on(el.split, "input", () => { updateSplitView(); splitThrottled(); });
  on(el.split, "change", () => splitThrottled.flush());
  on(el.compareToggle, "change", () => { updateUI(); if (app.mode === "camera") sendSplit(); });
  // Mirroring moves the divider to the frame's other side: the server must know.
  on(el.mirror, "change", () => { updateUI(); if (app.mode === "camera" && el.compareToggle.checked) sendSplit(); });
  on(el.pause, "change", () => { updateUI(); if (app.mode === "camera") sendPause(); });

  for (const [node, type] of [[el.remoteVideo, "resize"], [el.remoteVideo, "loadedmetadata"], [el.photoResult, "load"], [el.photoOriginal, "load"], [window, "resize"]]) {
    on(node, type, layoutStage);
  }
  on(window, "resize", filtersScrolled);
  if (window.ResizeObserver) new ResizeObserver(layoutStage).observe(el.stage);
  const leave = () => { events.flush({ keepalive: true }); app.gen += 1; teardownCamera(); };
  on(window, "pagehide", leave);
  on(window, "beforeunload", leave);
  on(window, "pageshow", (e) => { if (e.persisted && app.mode === "camera" && !app.cam) { app.mode = "none"; setState("idle"); } });
  on(document, "keydown", (e) => { if (e.key === "Escape" && app.message && !app.message.sticky) clearMessage(); });
}

function init() {
  for (const node of document.querySelectorAll("[id]")) el[node.id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
  app.intensity = Number(el.intensity.value) / 100;
  app.onDetail = onDetail;
  app.onPromotion = (promo) => showPromotion(promo, { productName: (id) => app.catalog.get(id)?.name ?? null });
  Object.assign(tryon, { events: events.stats, promotions });
  // The developers' HUD (hud.js): ?hud=1 or Shift+D; its Stats switch is never shown to shoppers.
  initHud();
  app.keepLook = true; // storage and address (rail.js)
  let stored = null;
  try { stored = localStorage.getItem(LANG_KEY); } catch { /* storage blocked */ }
  bindEvents();
  applyLang(LANGS.includes(stored) ? stored : pickLang(navigator.languages?.length ? navigator.languages : [navigator.language]), false);
  app.ready = Promise.all([loadConfig(), loadCatalog()]).then(() => undefined);
  setInterval(pollBrowserStats, 1000);
}

init();
