// tryon: the shopper's page. Camera → WebRTC → server → processed video back; the look and the view
// options travel on the "control" data channel. Photo mode posts a still to /api/photo instead.
import { LANGS, LOCALES, applyTranslations, finishName, getLang, kindName, pickLang, setLang, t } from "/static/i18n.js";

const CONNECT_TIMEOUT_MS = 15000; // pc created → "connected"
const FIRST_FRAME_TIMEOUT_MS = 15000; // "connected" → first processed frame and open channel
const DISCONNECT_GRACE_MS = 5000;
const ICE_GATHER_TIMEOUT_MS = 3000;
const SEND_INTERVAL_MS = 100; // sliders: at most 10 messages a second, the final value always sent
const PHOTO_DEBOUNCE_MS = 250;
const TOAST_MS = { info: 8000, error: 12000 };
const LANG_KEY = "tryon.lang";

// Filter chips: kinds grouped the way a shopper browses.
const GROUPS = [
  ["lips", ["lipstick", "lip_gloss"]], ["eyes", ["eyeshadow", "eyeliner", "brow"]], ["face", ["blush", "foundation"]],
  ["nails", ["nails"]], ["accessories", ["glasses", "sunglasses", "earrings", "hat", "necklace"]], ["clothes", ["top", "dress", "jacket"]],
];
const groupOf = (kind) => GROUPS.find(([, kinds]) => kinds.includes(kind))?.[0] ?? "other";

const el = {}; // every element with an id, camel-cased: el.remoteVideo is #remote-video
const params = new URLSearchParams(location.search);
const app = {
  state: "idle",
  mode: "none", // "none" | "camera" | "photo"
  gen: 0, // bumped whenever a pending camera start must be abandoned
  config: { camera: { width: 640, height: 480 }, ice_servers: [], limits: {} },
  ready: Promise.resolve(),
  catalog: new Map(), products: [], catalogLoaded: false, catalogError: false, filter: "all",
  look: [], // [{productId, variantId}], at most one product per kind
  focusedId: null, // the product whose shades are shown
  shadeMemory: new Map(), // product id → last shade picked
  intensity: 1, nextId: 1,
  cam: null, // the live session: {stream, pc, dc, session, offered, gotFrame, timers, closing}
  photo: null, // photo mode: {file, originalUrl, resultUrl, resultBlob, seq, timer, controller, busy, faces}
  message: null, messageTimer: null, snapshotBusy: false,
  lastStats: null, browserStats: null,
};
const tryon = { state: "idle", session: null, lastStats: null, look: [], lang: "en" };
window.tryon = tryon;

// -- helpers -----------------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const safeColor = (c) => (/^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(c || "") ? c : "#c9a2ad");
const round4 = (x) => Math.round(x * 1e4) / 1e4;
const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const num = (x, digits = 1) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–");

/** Run `fn` at most once per `ms`, with a trailing call so the latest values always go out. */
function throttle(fn, ms) {
  let last = -Infinity;
  let timer = null;
  const run = () => { timer = null; last = performance.now(); fn(); };
  const call = () => {
    if (timer) return;
    const wait = last + ms - performance.now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
  call.flush = () => { if (timer) { clearTimeout(timer); run(); } };
  return call;
}

/** The server's `{"error": "..."}` message, else the body or the status. */
async function errorText(resp) {
  let text = "";
  try { text = await resp.text(); } catch { /* unreadable body: use the status */ }
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === "string") return body.error;
  } catch { /* not JSON */ }
  return text.trim().slice(0, 300) || `HTTP ${resp.status} ${resp.statusText}`.trim();
}

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// -- catalog and look ----------------------------------------------------------------------------------

const productOf = (id) => app.catalog.get(id) ?? null;
const variantOf = (p, id) => p?.variants?.find((v) => v.id === id) ?? p?.variants?.[0] ?? null;
const lookItem = (productId) => app.look.find((i) => i.productId === productId) ?? null;
const specOf = (item) => (item.variantId ? `${item.productId}:${item.variantId}` : item.productId);
const lookSpecs = () => app.look.map(specOf);
const maxLook = () => app.config.limits?.look ?? 12;
/** The shade a product shows: the one in the look, else the last one picked, else the first. */
const shownVariant = (p) => variantOf(p, lookItem(p.id)?.variantId ?? app.shadeMemory.get(p.id));

/** Put `p` in the look with `variantId`, replacing the product of the same kind; false if refused. */
function putInLook(p, variantId) {
  if (!p?.renderable) return false;
  const item = { productId: p.id, variantId: variantId ?? null };
  const at = app.look.findIndex((i) => i.productId === p.id || productOf(i.productId)?.kind === p.kind);
  if (at < 0 && app.look.length >= maxLook()) {
    showMessage({ kind: "error", lines: [{ key: "err.tooManyProducts", vars: { count: maxLook() } }] });
    return false;
  }
  if (at >= 0) app.look[at] = item;
  else app.look.push(item);
  if (variantId) app.shadeMemory.set(p.id, variantId);
  return true;
}

function lookChanged() {
  renderLook();
  updateCards();
  renderDetail();
  updateUI();
  if (app.mode === "camera") sendLook();
  else if (app.mode === "photo") schedulePhoto();
}

function selectProduct(id) {
  const p = productOf(id);
  if (!p?.renderable) return;
  app.focusedId = id;
  if (!lookItem(id) && putInLook(p, shownVariant(p)?.id)) return lookChanged();
  updateCards();
  renderDetail();
}

function selectShade(variantId) {
  const p = productOf(app.focusedId);
  if (p && putInLook(p, variantId)) lookChanged();
}

function removeFromLook(id) { app.look = app.look.filter((i) => i.productId !== id); lookChanged(); }

/** `/?product=ID[:variant]` (repeatable): checked against the catalog, put in the look. */
function applyDeepLink() {
  const problems = [];
  for (const spec of params.getAll("product").flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean)) {
    const cut = spec.indexOf(":");
    const [id, shade] = cut < 0 ? [spec, ""] : [spec.slice(0, cut), spec.slice(cut + 1)];
    const p = productOf(id);
    const v = shade ? p?.variants?.find((x) => x.id === shade) : variantOf(p, null);
    if (!p) problems.push({ key: "err.unknownProduct", vars: { id: spec } });
    else if (!p.renderable) problems.push({ key: "err.notRenderable", vars: { name: p.name } });
    else if (shade && !v) problems.push({ key: "err.unknownShade", vars: { shade, name: p.name } });
    else if (putInLook(p, v?.id ?? null)) app.focusedId = p.id;
  }
  if (problems.length) showMessage({ kind: "error", lines: problems });
}

// -- thumbnails: the catalog's image, else an icon of the kind in the shown shade ------------------------

const DARK = "#2b272d";
const ICONS = {
  lipstick: (c) => `<rect x="21" y="36" width="22" height="24" rx="3" fill="${DARK}"/><rect x="23" y="29" width="18" height="8" rx="1.5" fill="#c9a86a"/><path d="M25.5 29V15.5L38.5 8V29Z" fill="${c}"/><path d="M28 27V16.5l3-1.7V27Z" fill="#fff" opacity=".3"/>`,
  lip_gloss: (c) => `<rect x="25" y="3" width="14" height="17" rx="3" fill="${DARK}"/><rect x="23" y="20" width="18" height="41" rx="6" fill="${c}" stroke="${DARK}" stroke-opacity=".25"/><rect x="26.5" y="24" width="3.5" height="32" rx="1.75" fill="#fff" opacity=".5"/>`,
  blush: (c) => `<circle cx="32" cy="33" r="25" fill="${DARK}"/><circle cx="32" cy="33" r="19" fill="${c}"/><path d="M20 27a14 14 0 0 1 10-9" stroke="#fff" stroke-width="3" stroke-linecap="round" fill="none" opacity=".45"/>`,
  eyeshadow: (c) => `<rect x="8" y="8" width="48" height="48" rx="10" fill="${DARK}"/><circle cx="32" cy="32" r="17" fill="${c}"/><circle cx="26" cy="26" r="2" fill="#fff" opacity=".55"/><circle cx="36" cy="24" r="1.3" fill="#fff" opacity=".45"/><circle cx="38" cy="37" r="1.6" fill="#fff" opacity=".4"/>`,
  eyeliner: (c) => `<g transform="rotate(40 32 32)"><rect x="27" y="22" width="10" height="38" rx="2.5" fill="${DARK}"/><rect x="27" y="22" width="10" height="5" fill="${c}"/><path d="M28.5 22 32 5l3.5 17Z" fill="${c}"/></g>`,
  brow: (c) => `<g transform="rotate(40 32 32)"><rect x="28" y="17" width="8" height="38" fill="${c}"/><rect x="28" y="17" width="3" height="38" fill="#fff" opacity=".2"/><path d="M28 17 32 5l4 12Z" fill="#e6cba3"/><path d="M30.7 9 32 5l1.3 4Z" fill="${c}"/><rect x="28" y="54" width="8" height="6" rx="1" fill="${DARK}"/></g>`,
  foundation: (c) => `<rect x="17" y="22" width="30" height="38" rx="7" fill="${c}" stroke="${DARK}" stroke-opacity=".2"/><rect x="25" y="14" width="14" height="8" rx="1" fill="${DARK}"/><rect x="30" y="6" width="4" height="8" fill="${DARK}"/><rect x="30" y="5" width="13" height="4" rx="2" fill="${DARK}"/><rect x="21" y="27" width="4" height="26" rx="2" fill="#fff" opacity=".35"/>`,
  other: (c) => `<path d="M32 6 52 20 46 52H18L12 20Z" fill="${c}" stroke="${DARK}" stroke-opacity=".25"/><path d="M32 16l3 7 7 .6-5.4 4.6 1.7 7L32 31.4 25.7 35l1.7-7L22 23.6l7-.6Z" fill="#fff" opacity=".55"/>`,
};
const CHECK_SVG = '<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path d="M3.5 8.5l3 3 6-7" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>';

function fillThumb(thumb, p) {
  if (p.thumbnail) {
    if (!thumb.firstChild) thumb.append(h("img", { src: p.thumbnail, alt: "", loading: "lazy", decoding: "async" }));
    return;
  }
  const color = safeColor(shownVariant(p)?.color);
  if (thumb.dataset.color === color) return;
  thumb.dataset.color = color;
  thumb.innerHTML = `<svg viewBox="0 0 64 64" aria-hidden="true" focusable="false">${(ICONS[p.kind] ?? ICONS.other)(color)}</svg>`;
}

// -- rendering: filters, product cards, shades, look -----------------------------------------------------

function formatPrice(p) {
  if (typeof p.price !== "number") return "";
  try {
    return new Intl.NumberFormat(LOCALES[getLang()], { style: "currency", currency: p.currency || "EUR" }).format(p.price);
  } catch {
    return `${p.price} ${p.currency ?? ""}`.trim();
  }
}

function buildCard(p) {
  const thumb = h("span", { class: "thumb", "aria-hidden": "true" });
  fillThumb(thumb, p);
  const check = h("span", { class: "card-check" });
  check.innerHTML = CHECK_SVG;
  const url = /^(https?:\/\/|\/)/i.test(p.buy_url || "") ? p.buy_url : null;
  const buy = url && h("a", { class: "buy", href: url, target: "_blank", rel: "noopener", text: t("products.buy"),
    "aria-label": t("products.buyLabel", { name: p.name }) });
  return h("button", { type: "button", class: "product-card", "data-product-id": p.id, "aria-disabled": p.renderable ? null : "true" },
    thumb, check,
    h("span", { class: "card-kind", text: kindName(p.kind) }),
    h("span", { class: "card-name", text: p.name }),
    p.brand && h("span", { class: "card-brand", text: p.brand }),
    !p.renderable && h("span", { class: "card-soon", text: t("products.comingSoon") }),
    h("span", { class: "visually-hidden card-state" }),
    h("span", { class: "card-foot" }, h("span", { class: "card-price", text: formatPrice(p) }), buy));
}

function renderFilters() {
  const present = new Set(app.products.map((p) => groupOf(p.kind)));
  const groups = [...GROUPS.map(([g]) => g), "other"].filter((g) => present.has(g));
  if (!groups.includes(app.filter)) app.filter = "all";
  el.kindFilters.replaceChildren(...(groups.length < 2 ? [] : ["all", ...groups].map((g) => h("button", {
    type: "button", class: "kind-chip", "data-group": g, "aria-pressed": String(app.filter === g), text: t(`group.${g}`),
  }))));
}

function renderProducts() {
  el.products.setAttribute("aria-busy", String(!app.catalogLoaded));
  if (!app.catalogLoaded || !app.products.length) {
    const key = !app.catalogLoaded ? "products.loading" : app.catalogError ? "err.catalog" : "products.none";
    return el.products.replaceChildren(h("p", { class: "muted", text: t(key) }));
  }
  el.products.replaceChildren(...app.products.map(buildCard), h("p", { class: "muted products-none", text: t("products.none") }));
  updateCards();
}

/** Card states in place (rebuilding would lose the keyboard focus). */
function updateCards() {
  let shown = 0;
  for (const card of el.products.querySelectorAll(".product-card")) {
    const p = productOf(card.dataset.productId);
    const inLook = !!lookItem(p.id);
    card.hidden = app.filter !== "all" && groupOf(p.kind) !== app.filter;
    shown += card.hidden ? 0 : 1;
    card.classList.toggle("is-in-look", inLook);
    card.classList.toggle("is-focused", app.focusedId === p.id);
    card.dataset.selected = String(inLook);
    card.querySelector(".card-state").textContent = inLook ? `(${t("products.inLook")})` : "";
    fillThumb(card.querySelector(".thumb"), p);
  }
  const none = el.products.querySelector(".products-none");
  if (none) none.hidden = shown > 0;
}

function renderDetail(force = false) {
  const p = productOf(app.focusedId);
  if (!p) {
    el.productDetail.replaceChildren(h("p", { class: "muted", text: t("detail.hint") }));
    el.shades.replaceChildren();
    el.shades.removeAttribute("aria-label");
    return delete el.shades.dataset.productId;
  }
  const v = shownVariant(p);
  el.productDetail.replaceChildren(
    h("h3", { text: p.name }),
    h("p", { class: "detail-meta", text: [p.brand, kindName(p.kind), formatPrice(p)].filter(Boolean).join(" · ") }),
    p.description && h("p", { class: "detail-desc", text: p.description }),
    v && h("p", { class: "detail-current", text: t("detail.current", { shade: v.name ?? v.id, finish: finishName(v.finish) || "—" }) }));
  el.shades.setAttribute("aria-label", t("detail.shades", { name: p.name }));
  if (force || el.shades.dataset.productId !== p.id) {
    el.shades.dataset.productId = p.id;
    el.shades.replaceChildren(...(p.variants ?? []).map((x) => {
      const name = x.name ?? x.id;
      const swatch = h("button", { type: "button", class: "swatch", "data-variant-id": x.id, title: name, "aria-label": name });
      swatch.style.background = safeColor(x.color);
      return h("div", { class: "shade" }, swatch, x.finish && h("span", { class: "finish", text: finishName(x.finish) }));
    }));
  }
  const chosen = lookItem(p.id)?.variantId;
  for (const sw of el.shades.querySelectorAll(".swatch")) sw.setAttribute("aria-pressed", String(sw.dataset.variantId === chosen));
}

function renderLook(focusIndex = -1) {
  el.look.replaceChildren(...app.look.map((item) => {
    const p = productOf(item.productId);
    const v = variantOf(p, item.variantId);
    const name = p?.name ?? item.productId;
    const dot = h("span", { class: "look-dot", "aria-hidden": "true" });
    dot.style.background = safeColor(v?.color);
    return h("li", { class: "look-item", "data-product-id": item.productId, "data-spec": specOf(item) }, dot,
      h("button", { type: "button", class: "look-name", title: t("look.edit", { name }),
        text: v ? t("look.item", { name, shade: v.name ?? v.id }) : name }),
      h("button", { type: "button", class: "look-remove", "aria-label": t("look.remove", { name }), title: t("look.remove", { name }), text: "×" }));
  }));
  el.lookEmpty.hidden = app.look.length > 0;
  if (focusIndex >= 0) { // after a removal: keep the keyboard focus nearby
    const buttons = el.look.querySelectorAll(".look-remove");
    (buttons[Math.min(focusIndex, buttons.length - 1)] ?? el.products.querySelector(".product-card"))?.focus();
  }
}

// -- messages ------------------------------------------------------------------------------------------

/** Show {kind: "error"|"info", lines: [{key, vars}], detail, actions: ["retry"|"photo"], sticky} in #message. */
function showMessage(msg) {
  app.message = { kind: "error", actions: [], ...msg };
  clearTimeout(app.messageTimer);
  if (!app.message.sticky) app.messageTimer = setTimeout(clearMessage, TOAST_MS[app.message.kind] ?? 10000);
  renderMessage();
}

function clearMessage() { clearTimeout(app.messageTimer); app.message = null; renderMessage(); }

function renderMessage() {
  const m = app.message;
  if (!m) { el.message.replaceChildren(); return el.message.removeAttribute("data-kind"); }
  el.message.dataset.kind = m.kind;
  const actions = m.actions.map((a) => (a === "retry"
    ? h("button", { type: "button", id: "retry", class: "btn btn-primary btn-small", text: t("msg.retry"), onclick: startCamera })
    : h("button", { type: "button", id: "message-photo", class: "btn btn-secondary btn-small", text: t("msg.usePhoto"), onclick: choosePhoto })));
  el.message.replaceChildren(
    h("div", { class: "message-text" }, ...m.lines.map((l) => h("p", { text: t(l.key, l.vars) })),
      m.detail && h("p", { class: "message-detail", text: m.detail }),
      actions.length > 0 && h("div", { class: "message-actions" }, ...actions)),
    h("button", { type: "button", class: "message-close", "aria-label": t("msg.dismiss"), title: t("msg.dismiss"), text: "×", onclick: clearMessage }));
}

// -- state and view ------------------------------------------------------------------------------------

function setState(state) { app.state = state; updateUI(); }

/** Put the photo and the before/after overlay exactly over the displayed picture (object-fit: contain). */
function layoutStage() {
  const img = el.photoResult.naturalWidth ? el.photoResult : el.photoOriginal;
  const [w, hh] = app.mode === "photo" ? [img.naturalWidth, img.naturalHeight] : [el.remoteVideo.videoWidth, el.remoteVideo.videoHeight];
  const [bw, bh] = [el.stage.clientWidth, el.stage.clientHeight];
  const s = w && hh ? Math.min(bw / w, bh / hh) : 0;
  const r = s ? { left: (bw - w * s) / 2, top: (bh - hh * s) / 2, width: w * s, height: hh * s } : { left: 0, top: 0, width: bw, height: bh };
  for (const node of [el.photoFrame, el.splitWrap]) {
    Object.assign(node.style, { left: `${r.left}px`, top: `${r.top}px`, width: `${r.width}px`, height: `${r.height}px` });
  }
}

function updateSplitView() {
  const p = Number(el.split.value);
  el.splitWrap.style.setProperty("--split", `${p}%`);
  const clip = app.mode === "photo" && el.compareToggle.checked && app.photo?.resultUrl;
  el.photoOriginal.style.clipPath = clip ? `inset(0 ${100 - p}% 0 0)` : ""; // the original shows left of the divider
}

function updateUI() {
  const { state, mode } = app;
  const [camera, photo] = [mode === "camera", mode === "photo"];
  const hasResult = photo && !!app.photo?.resultUrl;
  document.body.dataset.state = state;
  document.body.dataset.mode = mode;
  el.startScreen.hidden = camera || photo;
  el.remoteVideo.hidden = !camera;
  el.localVideo.hidden = !camera || state === "live";
  el.photoFrame.hidden = !photo;
  el.photoResult.hidden = !hasResult;
  el.photoOriginal.hidden = !photo || (hasResult && !el.compareToggle.checked);
  el.photoOriginal.classList.toggle("is-placeholder", photo && !hasResult);
  el.splitWrap.hidden = !(el.compareToggle.checked && ((camera && state === "live") || hasResult));
  el.stage.classList.toggle("mirrored", el.mirror.checked);
  el.stats.hidden = !el.statsToggle.checked;

  const status = { starting: "status.starting", connecting: "status.connecting" }[state]
    ?? (photo && app.photo?.busy ? "status.processing" : null);
  el.stageStatus.hidden = !status;
  el.stageStatusText.textContent = status ? t(status) : "";
  const badge = camera && state === "live" ? (el.pause.checked ? "paused" : "live") : hasResult ? "photo" : null;
  el.badge.hidden = !badge;
  el.badge.dataset.kind = badge ?? "";
  el.badge.textContent = badge ? t(`badge.${badge}`) : "";

  el.compareToggle.disabled = !(camera || photo);
  el.pause.disabled = !camera;
  el.snapshot.disabled = app.snapshotBusy || !((camera && state === "live" && app.cam?.session) || hasResult);
  el.photoChange.hidden = !photo;
  el.stop.hidden = !(camera || photo);
  el.stop.textContent = t(photo ? "controls.closePhoto" : "controls.stopCamera");
  el.lookClear.disabled = app.look.length === 0;
  el.intensityValue.textContent = new Intl.NumberFormat(LOCALES[getLang()], { style: "percent" }).format(app.intensity);
  Object.assign(tryon, { state, mode, session: app.cam?.session ?? null, lastStats: app.lastStats, look: lookSpecs(),
    lang: getLang(), intensity: app.intensity, faces: app.photo?.faces ?? null });
  layoutStage();
  updateSplitView();
}

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

// -- data channel: page → server -------------------------------------------------------------------------

function send(type, fields) {
  const dc = app.cam?.dc;
  if (dc?.readyState !== "open") return false;
  dc.send(JSON.stringify({ type, id: app.nextId++, ...fields }));
  return true;
}

const sendLook = () => send("look", { products: lookSpecs(), intensity: app.intensity });
const sendPause = () => send("pause", { paused: el.pause.checked });
function sendSplit() {
  if (!el.compareToggle.checked) return send("split", { position: null });
  const p = Number(el.split.value) / 100;
  // The display is mirrored: "before" must stay on the displayed left, so it is the frame's right.
  return el.mirror.checked ? send("split", { position: round4(1 - p), before: "right" }) : send("split", { position: round4(p), before: "left" });
}
const intensityThrottled = throttle(() => app.mode === "camera" && sendLook(), SEND_INTERVAL_MS);
const splitThrottled = throttle(() => app.mode === "camera" && sendSplit(), SEND_INTERVAL_MS);

// -- camera mode ---------------------------------------------------------------------------------------

function cameraError(err) {
  const name = err?.name ?? "";
  const is = (...names) => names.includes(name);
  if (is("NoMediaDevices")) return { key: "err.noMediaDevices", actions: ["photo"] };
  if (is("NotAllowedError", "PermissionDeniedError", "SecurityError")) return { key: "err.cameraDenied", actions: ["retry", "photo"] };
  if (is("NotFoundError", "DevicesNotFoundError", "OverconstrainedError", "ConstraintNotSatisfiedError")) return { key: "err.noCamera", actions: ["retry", "photo"] };
  if (is("NotReadableError", "TrackStartError", "AbortError")) return { key: "err.cameraInUse", actions: ["retry", "photo"] };
  return { key: "err.camera", detail: err?.message || name, actions: ["retry", "photo"] };
}

function fail(key, detail, actions) {
  teardownCamera();
  app.mode = "none";
  setState("failed");
  showMessage({ kind: "error", lines: [{ key }], detail: detail || null, actions, sticky: true });
}

function failCamera(err) {
  const { key, detail, actions } = cameraError(err);
  fail(key, detail, actions);
}

function failConnection(cam, key, detail) {
  if (app.cam === cam && !cam.closing) fail(key, detail, ["retry"]);
}

async function startCamera() {
  const gen = ++app.gen;
  clearMessage();
  leavePhoto();
  teardownCamera();
  app.mode = "camera";
  app.lastStats = null;
  setState("starting");
  if (!navigator.mediaDevices?.getUserMedia || !window.RTCPeerConnection) return failCamera({ name: "NoMediaDevices" });
  await app.ready;
  if (gen !== app.gen) return;
  const { width = 640, height = 480 } = app.config.camera ?? {};
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: width }, height: { ideal: height }, facingMode: "user" }, audio: false });
  } catch (err) {
    return gen === app.gen && failCamera(err);
  }
  if (gen !== app.gen) return stream.getTracks().forEach((tr) => tr.stop());
  const cam = { stream, pc: null, dc: null, session: null, offered: [], gotFrame: false, watching: false, closing: false, timers: {} };
  app.cam = cam;
  el.localVideo.srcObject = stream; // a dimmed preview under the (still transparent) remote video
  el.localVideo.play?.().catch(() => {});
  setState("connecting");
  try {
    await connect(cam);
  } catch (err) {
    console.error("try-on connection failed", err);
    failConnection(cam, "err.connectFailed", err?.message);
  }
}

function waitForIceGathering(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); pc.removeEventListener("icegatheringstatechange", check); resolve(); };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

async function connect(cam) {
  const pc = (cam.pc = new RTCPeerConnection({ iceServers: app.config.ice_servers ?? [] }));
  pc.addTransceiver(cam.stream.getVideoTracks()[0], { direction: "sendrecv", streams: [cam.stream] });
  const dc = (cam.dc = pc.createDataChannel("control", { ordered: true })); // before the offer
  dc.onopen = () => onChannelOpen(cam);
  dc.onmessage = (e) => onChannelMessage(cam, e);
  dc.onclose = () => app.cam === cam && failConnection(cam, app.state === "live" ? "err.connectionLost" : "err.connectFailed");
  pc.ontrack = (e) => onRemoteTrack(cam, e);
  pc.onconnectionstatechange = () => onConnectionState(cam);
  cam.timers.connect = setTimeout(() => pc.connectionState !== "connected" && failConnection(cam, "err.connectTimeout"), CONNECT_TIMEOUT_MS);

  await pc.setLocalDescription(await pc.createOffer());
  await waitForIceGathering(pc, ICE_GATHER_TIMEOUT_MS); // no trickle: the offer carries every candidate
  if (app.cam !== cam) return;
  cam.offered = lookSpecs();
  let resp;
  try {
    const body = JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer", products: cam.offered });
    resp = await fetch("/offer", { method: "POST", headers: { "Content-Type": "application/json" }, body });
  } catch (err) {
    return failConnection(cam, "err.connectFailed", err?.message);
  }
  if (app.cam !== cam) return;
  if (!resp.ok) return failConnection(cam, resp.status === 503 ? "err.busy" : "err.connectFailed", await errorText(resp));
  const answer = await resp.json();
  if (app.cam !== cam) return;
  cam.session = answer.session ?? null;
  await pc.setRemoteDescription({ type: answer.type || "answer", sdp: answer.sdp });
  updateUI();
}

function onRemoteTrack(cam, e) {
  if (app.cam !== cam || e.track.kind !== "video") return;
  const video = el.remoteVideo;
  const stream = e.streams?.[0] ?? new MediaStream([e.track]);
  if (video.srcObject !== stream) video.srcObject = stream;
  video.play?.().catch(() => {});
  if (cam.watching) return;
  cam.watching = true;
  const first = () => { if (app.cam === cam && !cam.gotFrame) { cam.gotFrame = true; checkLive(cam); } };
  if (typeof video.requestVideoFrameCallback === "function") video.requestVideoFrameCallback(first);
  else video.addEventListener("loadeddata", first, { once: true });
}

function onConnectionState(cam) {
  if (app.cam !== cam) return;
  const { timers } = cam;
  const s = cam.pc.connectionState;
  if (s === "connected") {
    clearTimeout(timers.connect);
    clearTimeout(timers.lost);
    timers.lost = null;
    if (app.state === "connecting" && !timers.frame) {
      timers.frame = setTimeout(() => app.state === "connecting" && failConnection(cam, "err.noVideo"), FIRST_FRAME_TIMEOUT_MS);
    }
    checkLive(cam);
  } else if (s === "disconnected" && !timers.lost) {
    timers.lost = setTimeout(() => cam.pc.connectionState !== "connected" && failConnection(cam, "err.connectionLost"), DISCONNECT_GRACE_MS);
  } else if (s === "failed" || s === "closed") {
    failConnection(cam, app.state === "live" ? "err.connectionLost" : "err.connectFailed");
  }
}

/** Live = peer connected + a processed frame rendered + control channel open. */
function checkLive(cam) {
  if (app.cam !== cam || app.state !== "connecting") return;
  if (cam.pc.connectionState !== "connected" || !cam.gotFrame || cam.dc.readyState !== "open") return;
  clearTimeout(cam.timers.frame);
  el.localVideo.srcObject = null;
  setState("live");
}

function onChannelOpen(cam) {
  if (app.cam !== cam) return;
  // The offer carried the look; send what changed since, and view options set before the channel opened.
  if (!sameList(lookSpecs(), cam.offered) || app.intensity !== 1) sendLook();
  if (el.compareToggle.checked) sendSplit();
  if (el.pause.checked) sendPause();
  checkLive(cam);
}

function onChannelMessage(cam, e) {
  if (app.cam !== cam) return;
  let msg;
  try { msg = JSON.parse(e.data); } catch { return console.warn("control channel: not JSON", e.data); }
  if (msg?.type === "hello" && msg.session && !cam.session) {
    cam.session = msg.session;
    updateUI();
  } else if (msg?.type === "error") {
    showMessage({ kind: "error", lines: [{ key: "err.server" }], detail: String(msg.message ?? "") });
  } else if (msg?.type === "stats") {
    app.lastStats = tryon.lastStats = msg;
    renderStats();
  } // "ack", "pong" and unknown types: nothing to do
}

function teardownCamera() {
  const cam = app.cam;
  if (!cam) return;
  app.cam = null;
  cam.closing = true;
  Object.values(cam.timers).forEach((id) => clearTimeout(id));
  try { cam.dc?.close(); } catch { /* already closed */ }
  try { cam.pc?.close(); } catch { /* already closed */ }
  cam.stream.getTracks().forEach((tr) => tr.stop());
  el.remoteVideo.srcObject = el.localVideo.srcObject = null;
  app.browserStats = null;
}

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
    const resp = await fetch(`/api/sessions/${encodeURIComponent(session)}/snapshot.png?pair=${pair}`, { cache: "no-store" });
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

// -- photo mode ----------------------------------------------------------------------------------------

function choosePhoto() { el.photoInput.value = ""; el.photoInput.click(); }

function startPhoto(file) {
  const limit = app.config.limits?.photo_bytes;
  const problem = file.type && !file.type.startsWith("image/") ? "err.notImage" : limit && file.size > limit ? "err.photoTooLarge" : null;
  if (problem) return showMessage({ kind: "error", lines: [{ key: problem }] });
  app.gen += 1;
  teardownCamera();
  leavePhoto();
  clearMessage();
  const originalUrl = URL.createObjectURL(file);
  app.photo = { file, originalUrl, resultUrl: null, resultBlob: null, seq: 0, timer: null, controller: null, busy: false, faces: null, warned: false };
  el.photoOriginal.src = originalUrl;
  app.mode = "photo";
  setState("photo");
  postPhoto();
}

function schedulePhoto() {
  if (!app.photo) return;
  clearTimeout(app.photo.timer);
  app.photo.timer = setTimeout(postPhoto, PHOTO_DEBOUNCE_MS);
}

async function postPhoto() {
  const ph = app.photo;
  if (!ph) return;
  clearTimeout(ph.timer);
  ph.controller?.abort();
  const controller = (ph.controller = new AbortController());
  const seq = ++ph.seq;
  const stale = () => app.photo !== ph || seq !== ph.seq; // a newer request (or none) counts now
  ph.busy = true;
  updateUI();
  const query = new URLSearchParams({ products: lookSpecs().join(","), intensity: String(app.intensity) });
  try {
    const headers = { "Content-Type": ph.file.type || "application/octet-stream" };
    const resp = await fetch(`/api/photo?${query}`, { method: "POST", body: ph.file, headers, signal: controller.signal });
    if (!resp.ok) {
      const detail = await errorText(resp);
      const key = { 413: "err.photoTooLarge", 503: "err.busy" }[resp.status] ?? "err.photo";
      return stale() || showMessage({ kind: "error", lines: [{ key }], detail });
    }
    const blob = await resp.blob();
    if (stale()) return;
    const faces = Number.parseInt(resp.headers.get("X-TryOn-Faces") ?? "", 10);
    if (ph.resultUrl) URL.revokeObjectURL(ph.resultUrl);
    ph.resultBlob = blob;
    ph.resultUrl = el.photoResult.src = URL.createObjectURL(blob);
    ph.faces = Number.isNaN(faces) ? null : faces;
    if (ph.faces === 0 && !ph.warned) {
      ph.warned = true;
      showMessage({ kind: "info", lines: [{ key: "info.noFace" }] });
    }
  } catch (err) {
    if (err?.name !== "AbortError" && !stale()) showMessage({ kind: "error", lines: [{ key: "err.photo" }], detail: err?.message });
  } finally {
    if (!stale()) { ph.busy = false; updateUI(); }
  }
}

function leavePhoto() {
  const ph = app.photo;
  if (!ph) return;
  app.photo = null;
  clearTimeout(ph.timer);
  ph.controller?.abort();
  if (ph.resultUrl) URL.revokeObjectURL(ph.resultUrl);
  URL.revokeObjectURL(ph.originalUrl);
  el.photoResult.removeAttribute("src");
  el.photoOriginal.removeAttribute("src");
  el.photoOriginal.style.clipPath = "";
}

// -- stats overlay (developers) ------------------------------------------------------------------------

function renderStats() {
  el.stats.hidden = !el.statsToggle.checked;
  if (el.stats.hidden) return;
  const { lastStats: s, browserStats: b } = app;
  const rows = [];
  if (s) {
    rows.push([t("stats.fps"), `${num(s.fps_in)} / ${num(s.fps_out)}`], [t("stats.frames"), `${num(s.frames_in, 0)} / ${num(s.frames_out, 0)}`],
      [t("stats.dropped"), num(s.dropped, 0)], [t("stats.failures"), num(s.failures, 0)], [t("stats.latency"), `${num(s.latency_ms)} ms`]);
    if (typeof s.paused === "boolean") rows.push([t("stats.paused"), t(s.paused ? "stats.yes" : "stats.no")]);
    const stages = Object.entries(s.stages ?? {});
    if (stages.length) rows.push([t("stats.stages"), ""], ...stages.map(([name, ms]) => [name, `${num(ms)} ms`, "stage-row"]));
  }
  if (b) {
    rows.push([t("stats.browserFps"), num(b.fps)], [t("stats.resolution"), b.width && b.height ? `${b.width}×${b.height}` : "–"]);
    if (typeof b.rtt === "number") rows.push([t("stats.rtt"), `${num(b.rtt * 1000)} ms`]);
  }
  const list = h("dl", {}, ...rows.flatMap(([label, value, cls]) => [h("dt", { class: cls, text: label }), h("dd", { text: value })]));
  el.stats.replaceChildren(h("h3", { text: t("stats.heading") }), rows.length ? list : h("p", { text: t("stats.waiting") }));
}

async function pollBrowserStats() {
  const pc = app.cam?.pc;
  if (!pc || el.stats.hidden || pc.connectionState !== "connected") return;
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
  app.browserStats = tryon.browserStats = { fps: inbound?.framesPerSecond, width: inbound?.frameWidth, height: inbound?.frameHeight, rtt: pair?.currentRoundTripTime };
  renderStats();
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

async function loadCatalog() {
  try {
    const resp = await fetch("/api/catalog", { cache: "no-store" });
    if (!resp.ok) throw new Error(await errorText(resp));
    const data = await resp.json();
    app.products = Array.isArray(data.products) ? data.products : [];
    app.catalog = new Map(app.products.map((p) => [p.id, p]));
    applyDeepLink();
  } catch (err) {
    console.error("could not load /api/catalog", err);
    app.catalogError = true;
    showMessage({ kind: "error", lines: [{ key: "err.catalog" }], detail: err?.message });
  }
  app.catalogLoaded = true;
  renderFilters();
  renderProducts();
  renderLook();
  renderDetail(true);
  updateUI();
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
    if (e.target.closest("a.buy")) return; // the Buy link only opens the shop
    const card = e.target.closest(".product-card");
    if (card && card.getAttribute("aria-disabled") !== "true") selectProduct(card.dataset.productId);
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
    el.products.querySelector(".product-card")?.focus();
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
