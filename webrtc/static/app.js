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
//   view.js   stage, controls, messages and the stats overlay, drawn from `app`
import { LANGS, applyTranslations, getLang, pickLang, setLang } from "/static/i18n.js";
import { app, el, params } from "/static/state.js";
import { download, errorText } from "/static/util.js";
import {
  loadCatalog, lookChanged, removeFromLook, renderDetail, renderFilters, renderLook, renderProducts, selectProduct, selectShade,
  updateCards,
} from "/static/rail.js";
import { intensityThrottled, pollBrowserStats, sendPause, sendSplit, splitThrottled, startCamera, teardownCamera } from "/static/live.js";
import { choosePhoto, leavePhoto, schedulePhoto, startPhoto } from "/static/photo.js";
import {
  clearMessage, layoutStage, renderMessage, renderStats, setState, showMessage, updateSplitView, updateUI,
} from "/static/view.js";

const LANG_KEY = "tryon.lang";

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
}

// -- actions on either mode: stop, snapshot -------------------------------------------------------------

function stopAll() {
  app.gen += 1;
  teardownCamera();
  leavePhoto();
  app.mode = "none";
  setState("idle");
}

async function snapshot() {
  if (app.mode === "photo") return app.photo?.resultBlob && download(app.photo.resultBlob, "tryon-photo.png");
  const session = app.cam?.session;
  if (!session) return;
  const pair = el.snapshotPair.checked ? 1 : 0;
  app.snapshotBusy = true;
  updateUI();
  try {
    // Fetched rather than navigated to, so that an error can be shown; saved under the server's file name.
    // The frame on screen now, by its RTP timestamp (else the server takes the last frame it sent).
    const rtp = Number.isInteger(app.cam?.shownRtp) ? `&rtp=${app.cam.shownRtp}` : "";
    const resp = await fetch(`/api/sessions/${encodeURIComponent(session)}/snapshot.png?pair=${pair}${rtp}`, { cache: "no-store" });
    if (!resp.ok) throw new Error(await errorText(resp));
    const name = /filename\s*=\s*"?([^";]+)"?/i.exec(resp.headers.get("Content-Disposition") || "")?.[1].split(/[\\/]/).pop();
    download(await resp.blob(), name || (pair ? "tryon-pair.png" : "tryon.png"));
  } catch (err) {
    showMessage({ kind: "error", lines: [{ key: "err.snapshot" }], detail: err?.message });
  } finally {
    app.snapshotBusy = false;
    updateUI();
  }
}

// -- start-up ------------------------------------------------------------------------------------------

async function loadConfig() {
  try {
    const resp = await fetch("/api/config", { cache: "no-store" });
    if (!resp.ok) throw new Error(await errorText(resp));
    const cfg = await resp.json();
    app.config = { ...app.config, ...cfg, camera: { ...app.config.camera, ...(cfg.camera ?? {}) } };
  } catch (err) {
    console.warn("could not load /api/config; using defaults", err);
  }
}

function bindEvents() {
  const on = (node, type, fn) => node.addEventListener(type, fn);
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
    if (e.target.closest("a.buy")) return;
    const card = e.target.closest(".product-card");
    const select = card?.querySelector(".card-select");
    if (select && select.getAttribute("aria-disabled") !== "true") selectProduct(card.dataset.productId);
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
  on(el.statsToggle, "change", () => { renderStats(); pollBrowserStats(); });

  for (const [node, type] of [[el.remoteVideo, "resize"], [el.remoteVideo, "loadedmetadata"], [el.photoResult, "load"], [el.photoOriginal, "load"], [window, "resize"]]) {
    on(node, type, layoutStage);
  }
  if (window.ResizeObserver) new ResizeObserver(layoutStage).observe(el.stage);
  const leave = () => { app.gen += 1; teardownCamera(); };
  on(window, "pagehide", leave);
  on(window, "beforeunload", leave);
  on(window, "pageshow", (e) => { if (e.persisted && app.mode === "camera" && !app.cam) { app.mode = "none"; setState("idle"); } });
  on(document, "keydown", (e) => { if (e.key === "Escape" && app.message && !app.message.sticky) clearMessage(); });
}

function init() {
  for (const node of document.querySelectorAll("[id]")) el[node.id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
  app.intensity = Number(el.intensity.value) / 100;
  if (params.get("debug") === "1") el.statsToggle.checked = true;
  let stored = null;
  try { stored = localStorage.getItem(LANG_KEY); } catch { /* storage blocked */ }
  bindEvents();
  applyLang(LANGS.includes(stored) ? stored : pickLang(navigator.languages?.length ? navigator.languages : [navigator.language]), false);
  app.ready = Promise.all([loadConfig(), loadCatalog()]).then(() => undefined);
  setInterval(pollBrowserStats, 1000);
}

init();
