// The shop rail: catalog and look (the model), product cards with thumbnails, kind filters, the shades
// of the focused product and the look list. A change of the look goes to the server through live.js
// (camera) or photo.js (photo).
//
// What clashes comes from the catalog (`slots`: the slots each kind fills; two products sharing a slot
// cannot be worn together, the later one wins), as does which kinds take an intensity
// (`intensity_kinds`: makeup). The server applies the same rule and says what it replaced in its ack.
import { LOCALES, finishName, getLang, kindName, registryName, setKindNames, t } from "/static/i18n.js";
import { app, el, params } from "/static/state.js";
import { errorText, h, safeColor } from "/static/util.js";
import { clearMessage, showMessage, updateUI } from "/static/view.js";
import { sendLook } from "/static/live.js";
import { schedulePhoto } from "/static/photo.js";

// Filter chips: the product groups the catalog sends (from the kind registry), in browsing order:
// [{id, names: {lang: name}, kinds: [...]}].
let groups = [];
const groupOf = (kind) => groups.find((g) => g.kinds.includes(kind))?.id ?? "other";
const groupName = (id) => registryName(groups.find((g) => g.id === id)?.names) ?? t(`group.${id}`);
// Until the catalog says (an older server): the makeup kinds take an intensity, and only a product of the
// same kind clashes.
let slots = null; // {kind: [slot, ...]} from the catalog, or null
let intensityKinds = new Set(); // the kinds that take an intensity (makeup), from the catalog
const slotsOf = (kind) => slots?.[kind] ?? [`kind:${kind}`];
/** Whether products of kinds `a` and `b` cannot be worn together. */
export const clashes = (a, b) => (slots ? slotsOf(a).some((s) => slotsOf(b).includes(s)) : a === b);
/** Whether a product of `kind` takes an intensity (makeup); garments and accessories are opaque. */
export const takesIntensity = (kind) => intensityKinds.has(kind);
let needs = {}; // {kind: "face" | "body" | "hand"} from the catalog: what must be in view
/** What a product needs to be seen: "face", "body" or "hand" (the page hints when it is not), else null. */
export const needOf = (p) => (p ? needs[p.kind] ?? null : null);

// -- catalog and look ----------------------------------------------------------------------------------

const productOf = (id) => app.catalog.get(id) ?? null;
const variantOf = (p, id) => p?.variants?.find((v) => v.id === id) ?? p?.variants?.[0] ?? null;
const lookItem = (productId) => app.look.find((i) => i.productId === productId) ?? null;
const specOf = (item) => (item.variantId ? `${item.productId}:${item.variantId}` : item.productId);
/** The look as the control channel takes it: "ID:shade", or {product, intensity} for a makeup item not at 100 %. */
export const lookProducts = () => app.look.map((i) => (typeof i.intensity === "number" && i.intensity !== 1 && takesIntensity(productOf(i.productId)?.kind)
  ? { product: specOf(i), intensity: i.intensity } : specOf(i)));
/** The shade's own link, else the product's; only http(s) or this site. */
export const buyUrl = (p, v) => [v?.buy_url, p?.buy_url].find((u) => /^(https?:\/\/|\/)/i.test(u || "")) ?? null;
export const lookSpecs = () => app.look.map(specOf);
const maxLook = () => app.config.limits?.look ?? 12;
/** The shade a product shows: the one in the look, else the last one picked, else the first. */
const shownVariant = (p) => variantOf(p, lookItem(p.id)?.variantId ?? app.shadeMemory.get(p.id));

/**
 * Put `p` in the look with `variantId`: it takes the place of the same product, and replaces every product it
 * clashes with (a shared slot). Returns the products replaced (other than itself), or null if refused.
 */
function putInLook(p, variantId) {
  if (!p?.renderable) return null;
  const same = lookItem(p.id);
  const item = { productId: p.id, variantId: variantId ?? null, intensity: same?.intensity ?? 1 };
  const replaced = app.look.filter((i) => i.productId !== p.id && clashes(productOf(i.productId)?.kind, p.kind));
  const at = app.look.findIndex((i) => i.productId === p.id || replaced.includes(i));
  const kept = app.look.filter((i) => i.productId !== p.id && !replaced.includes(i));
  if (at < 0 && kept.length >= maxLook()) {
    showMessage({ kind: "error", lines: [{ key: "err.tooManyProducts", vars: { count: maxLook() } }] });
    return null;
  }
  // In the place of the first item it replaces (the later one of a clashing pair wins: nothing after it clashes).
  const before = app.look.slice(0, Math.max(at, 0)).filter((i) => kept.includes(i)).length;
  app.look = at < 0 ? [...kept, item] : [...kept.slice(0, before), item, ...kept.slice(before)];
  if (variantId) app.shadeMemory.set(p.id, variantId);
  return replaced;
}

const names = (items) => {
  const list = items.map((i) => productOf(i.productId)?.name ?? i.productId);
  return list.length < 2 ? list[0] ?? "" : t("list.and", { a: list.slice(0, -1).join(", "), b: list.at(-1) });
};

/** "Dress replaced your Tee — Undo": `previous` is the look before the pick. */
function sayReplaced(item, replaced, previous) {
  if (!replaced.length) return;
  const undo = () => {
    app.look = previous.map((i) => ({ ...i }));
    clearMessage();
    lookChanged();
  };
  showMessage({ kind: "info", lines: [{ key: "look.replaced", vars: { new: names([item]), old: names(replaced) } }],
    actions: [{ id: "look-undo", key: "look.undo", run: undo }] });
}

/** The server's ack of a look: what it replaced that this page still wears is taken out (its rule wins). */
export function lookAcked(msg) {
  if (msg?.request !== "look" || !Array.isArray(msg.replaced) || !msg.replaced.length) return;
  // Only while the product that won is still worn (an ack of an older look, since undone, changes nothing).
  const wins = msg.replaced.filter((r) => typeof r?.spec === "string" && lookItem(String(r.by ?? "").split(":")[0]));
  const previous = app.look.map((i) => ({ ...i }));
  const gone = app.look.filter((i) => wins.some((r) => r.spec === specOf(i) || r.spec === i.productId));
  if (!gone.length) return;
  const by = lookItem(String(wins[0].by).split(":")[0]);
  app.look = app.look.filter((i) => !gone.includes(i));
  lookChanged();
  sayReplaced(by, gone, previous);
}

const LOOK_KEY = "tryon.look";

/** The shopper's page keeps the look (app.keepLook): in local storage, and in the address (?product=...) so it can be shared. */
function keepLook() {
  if (!app.keepLook || !app.catalogLoaded) return;
  try {
    localStorage.setItem(LOOK_KEY, JSON.stringify(app.look.map((i) => ({ product: specOf(i), intensity: i.intensity ?? 1 }))));
  } catch { /* storage blocked or full */ }
  const url = new URL(location.href);
  url.searchParams.delete("product");
  if (app.look.length) url.searchParams.set("product", lookSpecs().join(","));
  const next = url.pathname + url.search.replace(/%2C/gi, ",").replace(/%3A/gi, ":") + url.hash;
  if (next !== location.pathname + location.search + location.hash) history.replaceState(history.state, "", next);
}

export function lookChanged() {
  renderLook();
  updateCards();
  renderDetail();
  updateUI();
  keepLook();
  if (app.mode === "camera") sendLook();
  else if (app.mode === "photo") schedulePhoto();
}

/** Pick `p` (in `variantId`): in the look, replacing what it clashes with (said, with an Undo). */
function pick(p, variantId) {
  const previous = app.look.map((i) => ({ ...i }));
  const replaced = putInLook(p, variantId);
  if (!replaced) return;
  lookChanged();
  sayReplaced(lookItem(p.id), replaced, previous);
}

export function selectProduct(id) {
  const p = productOf(id);
  if (!p?.renderable) return;
  app.focusedId = id;
  if (!lookItem(id)) return pick(p, shownVariant(p)?.id);
  updateCards();
  renderDetail();
}

export function selectShade(variantId) {
  const p = productOf(app.focusedId);
  if (p) pick(p, variantId);
}

/** A makeup item's own intensity (0..1); sent with the look. */
export function setItemIntensity(id, value) {
  const item = lookItem(id);
  if (!item || !takesIntensity(productOf(id)?.kind)) return false;
  item.intensity = Math.min(1, Math.max(0, value));
  keepLook();
  return true;
}

export function removeFromLook(id) { app.look = app.look.filter((i) => i.productId !== id); lookChanged(); }

/** `/?product=ID[:variant]` (repeatable), else the look kept from the last visit: checked against the catalog, put in the look. */
function applyDeepLink() {
  const problems = [];
  let specs = params.getAll("product").flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  const intensities = new Map();
  if (!specs.length && app.keepLook) {
    let kept = [];
    try { kept = JSON.parse(localStorage.getItem(LOOK_KEY) || "[]"); } catch { /* storage blocked or garbled */ }
    for (const k of Array.isArray(kept) ? kept : []) {
      if (typeof k?.product !== "string") continue;
      specs.push(k.product);
      if (typeof k.intensity === "number") intensities.set(k.product.split(":")[0], k.intensity);
    }
    specs = specs.filter((s) => productOf(s.split(":")[0])?.renderable); // a product gone since: quietly left out
  }
  for (const spec of specs) {
    const cut = spec.indexOf(":");
    const [id, shade] = cut < 0 ? [spec, ""] : [spec.slice(0, cut), spec.slice(cut + 1)];
    const p = productOf(id);
    const v = shade ? p?.variants?.find((x) => x.id === shade) : variantOf(p, null);
    if (!p) problems.push({ key: "err.unknownProduct", vars: { id: spec } });
    else if (!p.renderable) problems.push({ key: "err.notRenderable", vars: { name: p.name } });
    else if (shade && !v) problems.push({ key: "err.unknownShade", vars: { shade, name: p.name } });
    else if (putInLook(p, v?.id ?? null)) {
      app.focusedId = p.id;
      if (intensities.has(p.id)) setItemIntensity(p.id, intensities.get(p.id));
    }
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

export function fillThumb(thumb, p) {
  if (p.thumbnail) {
    if (!thumb.firstChild) thumb.append(h("img", { src: p.thumbnail, alt: "", loading: "lazy", decoding: "async" }));
    return;
  }
  const color = swatchColor(shownVariant(p));
  if (thumb.dataset.color === color) return;
  thumb.dataset.color = color;
  thumb.innerHTML = `<svg viewBox="0 0 64 64" aria-hidden="true" focusable="false">${(ICONS[p.kind] ?? ICONS.other)(color)}</svg>`;
}

/** A variant's colour: its swatch when that is a colour, else its colour, else the fallback. */
const isColor = (c) => safeColor(c) === c;
export const swatchColor = (v) => safeColor(isColor(v?.swatch) ? v.swatch : v?.color);
/** Its swatch image (a URL on this site), if the catalog gives one. */
const swatchImage = (v) => (typeof v?.swatch === "string" && /^\/[^/]/.test(v.swatch) ? v.swatch : null);

/** Draw variant `v`'s swatch into `node`: its image, else its colour. */
function paintSwatch(node, v) {
  const img = swatchImage(v);
  node.style.background = swatchColor(v);
  node.replaceChildren(...(img ? [h("img", { src: img, alt: "", loading: "lazy", decoding: "async" })] : []));
  node.dataset.swatch = img ?? swatchColor(v);
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

// A card is a plain container: its select button (stretched over the whole card by CSS, so a click anywhere
// selects) and, beside it rather than inside it, the Buy link (raised above the stretched area).
function buildCard(p) {
  const thumb = h("span", { class: "thumb", "aria-hidden": "true" });
  fillThumb(thumb, p);
  const check = h("span", { class: "card-check" });
  check.innerHTML = CHECK_SVG;
  const url = buyUrl(p, shownVariant(p));
  const buy = url && h("a", { class: "buy", href: url, target: "_blank", rel: "noopener", text: t("products.buy"),
    "aria-label": t("products.buyLabel", { name: p.name }) });
  const select = h("button", { type: "button", class: "card-select", "aria-disabled": p.renderable ? null : "true" },
    thumb, check,
    h("span", { class: "card-kind", text: kindName(p.kind) }),
    h("span", { class: "card-name", text: p.name, title: p.name }),
    p.brand && h("span", { class: "card-brand", text: p.brand }),
    !p.renderable && h("span", { class: "card-soon", text: t("products.comingSoon") }),
    h("span", { class: "visually-hidden card-state" }));
  return h("div", { class: p.renderable ? "product-card" : "product-card is-disabled", "data-product-id": p.id },
    select,
    h("div", { class: "card-foot" }, h("span", { class: "card-price", text: formatPrice(p) }), buy));
}

export function renderFilters() {
  const present = new Set(app.products.map((p) => groupOf(p.kind)));
  const shown = [...groups.map((g) => g.id), "other"].filter((g) => present.has(g));
  if (!shown.includes(app.filter)) app.filter = "all";
  el.kindFilters.replaceChildren(...(shown.length < 2 ? [] : ["all", ...shown].map((g) => h("button", {
    type: "button", class: "kind-chip", "data-group": g, "aria-pressed": String(app.filter === g), text: groupName(g),
  }))));
}

export function renderProducts() {
  el.products.setAttribute("aria-busy", String(!app.catalogLoaded));
  if (!app.catalogLoaded || !app.products.length) {
    const key = !app.catalogLoaded ? "products.loading" : app.catalogError ? "err.catalog" : "products.none";
    return el.products.replaceChildren(h("p", { class: "muted", text: t(key) }));
  }
  el.products.replaceChildren(...app.products.map(buildCard), h("p", { class: "muted products-none", text: t("products.none") }));
  updateCards();
}

/** Card states in place (rebuilding would lose the keyboard focus). */
export function updateCards() {
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
    const buy = card.querySelector("a.buy");
    const url = buyUrl(p, shownVariant(p));
    if (buy && url && buy.getAttribute("href") !== url) buy.href = url;
  }
  const none = el.products.querySelector(".products-none");
  if (none) none.hidden = shown > 0;
  filtersScrolled();
}

/** The category row says when it scrolls: a fade on the side with more chips. */
export function filtersScrolled() {
  const row = el.kindFilters;
  if (!row) return;
  const more = row.scrollWidth - row.clientWidth;
  row.classList.toggle("more-right", more > 2 && row.scrollLeft < more - 2);
  row.classList.toggle("more-left", more > 2 && row.scrollLeft > 2);
}

// A garment's size chart as a small table (body chest/bust and waist, garment length, in cm).
function sizeChart(sizes) {
  if (!Array.isArray(sizes) || !sizes.length) return null;
  const cols = [["id", "detail.size"], ["chest_cm", "detail.chest"], ["waist_cm", "detail.waist"], ["length_cm", "detail.length"]]
    .filter(([key]) => sizes.some((s) => s[key] != null));
  const cell = (tag, text) => h(tag, { text: String(text ?? "—") });
  return h("table", { class: "size-chart" },
    h("caption", { text: t("detail.sizes") }),
    h("thead", {}, h("tr", {}, ...cols.map(([, label]) => cell("th", t(label))))),
    h("tbody", {}, ...sizes.map((s) => h("tr", {}, ...cols.map(([key]) => cell(key === "id" ? "th" : "td", s[key]))))));
}

export function renderDetail(force = false) {
  const p = productOf(app.focusedId);
  if (!p) {
    el.productDetail.replaceChildren(h("p", { class: "muted", text: t("detail.hint") }));
    el.shades.replaceChildren();
    el.shades.removeAttribute("aria-label");
    app.onDetail?.(null);
    return delete el.shades.dataset.productId;
  }
  const v = shownVariant(p);
  const url = buyUrl(p, v);
  const shade = v?.name ?? v?.id ?? "";
  el.productDetail.replaceChildren(...[ // replaceChildren(null) would add the text "null": absent parts left out
    h("h3", { text: p.name }),
    h("p", { class: "detail-meta", text: [p.brand, kindName(p.kind), formatPrice(p)].filter(Boolean).join(" · ") }),
    p.description && h("p", { class: "detail-desc", text: p.description }),
    sizeChart(p.sizes),
    v && h("p", { class: "detail-current", text: [v.finish ? t("detail.current", { shade, finish: finishName(v.finish) }) : t("detail.currentShade", { shade }),
      v.sku && t("detail.sku", { sku: v.sku })].filter(Boolean).join(" · ") }),
    url && p.renderable !== false && h("a", { class: "btn btn-primary btn-small detail-buy", href: url, target: "_blank", rel: "noopener",
      "data-product-id": p.id, text: v ? t("detail.buy", { shade }) : t("products.buy"),
      "aria-label": v ? t("look.buyLabel", { name: p.name, shade }) : t("products.buyLabel", { name: p.name }) }),
  ].filter(Boolean));
  el.shades.setAttribute("aria-label", t("detail.shades", { name: p.name }));
  if (force || el.shades.dataset.productId !== p.id) {
    el.shades.dataset.productId = p.id;
    el.shades.replaceChildren(...(p.variants ?? []).map((x) => {
      const name = x.name ?? x.id;
      const swatch = h("button", { type: "button", class: "swatch", "data-variant-id": x.id, title: name, "aria-label": name });
      paintSwatch(swatch, x);
      return h("div", { class: "shade" }, swatch, h("span", { class: "shade-name", text: name, title: name, "aria-hidden": "true" }));
    }));
  }
  const chosen = lookItem(p.id)?.variantId;
  for (const sw of el.shades.querySelectorAll(".swatch")) sw.setAttribute("aria-pressed", String(sw.dataset.variantId === chosen));
  renderItemIntensity(p);
  app.onDetail?.(p);
}

/** The focused product's own intensity: a makeup product in the look only. */
function renderItemIntensity(p) {
  if (!el.itemIntensityRow) return;
  const item = p && lookItem(p.id);
  const show = !!item && takesIntensity(p.kind);
  el.itemIntensityRow.hidden = !show;
  if (!show) return;
  const value = Math.round((item.intensity ?? 1) * 100);
  if (document.activeElement !== el.itemIntensity) el.itemIntensity.value = String(value);
  el.itemIntensity.setAttribute("aria-label", t("detail.intensityLabel", { name: p.name }));
  el.itemIntensity.dataset.productId = p.id;
  el.itemIntensityValue.textContent = new Intl.NumberFormat(LOCALES[getLang()], { style: "percent" }).format(value / 100);
}
export { renderItemIntensity };

export function renderLook(focusIndex = -1) {
  el.look.replaceChildren(...app.look.map((item) => {
    const p = productOf(item.productId);
    const v = variantOf(p, item.variantId);
    const name = p?.name ?? item.productId;
    const dot = h("span", { class: "look-dot", "aria-hidden": "true" });
    paintSwatch(dot, v);
    const text = v ? t("look.item", { name, shade: v.name ?? v.id }) : name;
    const url = buyUrl(p, v);
    // A long name is cut with an ellipsis; the whole of it is in the tooltip (and read out).
    return h("li", { class: "look-item", "data-product-id": item.productId, "data-spec": specOf(item), title: text }, dot,
      h("button", { type: "button", class: "look-name", "aria-label": `${text}: ${t("look.edit", { name })}`, text }),
      url && h("a", { class: "buy look-buy", href: url, target: "_blank", rel: "noopener", text: t("products.buy"),
        "aria-label": t("look.buyLabel", { name, shade: v?.name ?? v?.id ?? "" }) }),
      h("button", { type: "button", class: "look-remove", "aria-label": t("look.remove", { name }), title: t("look.remove", { name }), text: "×" }));
  }));
  el.lookEmpty.hidden = app.look.length > 0;
  if (focusIndex >= 0) { // after a removal: keep the keyboard focus nearby
    const buttons = el.look.querySelectorAll(".look-remove");
    (buttons[Math.min(focusIndex, buttons.length - 1)] ?? el.products.querySelector(".product-card:not([hidden]) .card-select"))?.focus();
  }
}

// -- loading the catalog (at start-up) ------------------------------------------------------------------

let catalogRequest = null;

/** GET /api/catalog in the page's language (at start-up, and again when the language changes: product text is localised). */
export async function loadCatalog() {
  const first = !app.catalogLoaded;
  catalogRequest?.abort();
  const controller = (catalogRequest = new AbortController());
  try {
    const resp = await fetch(`/api/catalog?lang=${encodeURIComponent(getLang())}`, { cache: "no-store", signal: controller.signal });
    if (!resp.ok) throw new Error(await errorText(resp));
    const data = await resp.json();
    if (controller !== catalogRequest) return;
    app.products = Array.isArray(data.products) ? data.products : [];
    groups = Array.isArray(data.groups) ? data.groups : [];
    slots = data.slots && typeof data.slots === "object" ? data.slots : null;
    intensityKinds = new Set(Array.isArray(data.intensity_kinds) ? data.intensity_kinds : []);
    needs = data.needs && typeof data.needs === "object" ? data.needs : {};
    app.catalogLang = typeof data.lang === "string" ? data.lang : null;
    setKindNames(data.kind_names);
    app.catalog = new Map(app.products.map((p) => [p.id, p]));
    if (first) applyDeepLink();
    else app.look = app.look.filter((i) => productOf(i.productId));
    app.catalogError = false;
  } catch (err) {
    if (controller.signal.aborted) return;
    console.error("could not load /api/catalog", err);
    if (first) {
      app.catalogError = true;
      showMessage({ kind: "error", lines: [{ key: "err.catalog" }], detail: err?.message });
    }
  }
  if (controller === catalogRequest) catalogRequest = null;
  app.catalogLoaded = true;
  renderFilters();
  renderProducts();
  renderLook();
  renderDetail(true);
  updateUI();
  if (first) keepLook();
}
