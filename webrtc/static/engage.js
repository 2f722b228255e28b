// Engagement on the shopper's and the viewer's pages (docs/show.md, "Engagement analytics"):
//   EventQueue       what only a page sees (impression, buy_click, share, watch) batched to POST /api/events,
//                    with the page's identity header (a viewer's X-Viewer-Token, a shopper's X-TryOn-Session)
//   showPromotion    a promotion the server pushed: a small dismissible banner, once per promotion, never two
//                    on screen, in the page's language, with a "Copy code" button
import { LOCALES, getLang, t } from "/static/i18n.js";
import { h } from "/static/util.js";

const FLUSH_MS = 3000; // a batch leaves every few seconds…
const FLUSH_COUNT = 10; // …or as soon as this many wait
const MAX_WAITING = 50; // the server's batch limit: older events are dropped past it
const RETRY_MS = 5000;

/**
 * A page's engagement events, sent in batches. `headers()` is the page's identity for the server
 * (null while it has none: the events wait, at most MAX_WAITING of them).
 */
export class EventQueue {
  constructor({ headers }) {
    this.headers = headers;
    this.waiting = [];
    this.timer = null;
    this.busy = false;
    this.stats = { queued: 0, sent: 0, accepted: 0, rejected: 0, dropped: 0, failed: 0 };
  }

  /** Queue one event: `type` and its fields (product, shade); the page's language and clock go with it. */
  add(type, fields = {}) {
    const event = { type, language: getLang(), client_at: Math.round(Date.now()) / 1000 };
    for (const [k, val] of Object.entries(fields)) if (val !== null && val !== undefined) event[k] = val;
    this.waiting.push(event);
    this.stats.queued += 1;
    if (this.waiting.length > MAX_WAITING) this.stats.dropped += this.waiting.splice(0, this.waiting.length - MAX_WAITING).length;
    if (this.waiting.length >= FLUSH_COUNT) this.flush();
    else this.schedule(FLUSH_MS);
  }

  schedule(ms) {
    if (!this.timer) this.timer = setTimeout(() => { this.timer = null; this.flush(); }, ms);
  }

  /** Send what waits now; `keepalive` lets the request outlive the page (Buy, leaving). */
  async flush({ keepalive = false } = {}) {
    if (!this.waiting.length || (this.busy && !keepalive)) return;
    const headers = this.headers();
    if (!headers) return this.schedule(FLUSH_MS); // no identity yet: keep them for later
    clearTimeout(this.timer);
    this.timer = null;
    const batch = this.waiting.splice(0, MAX_WAITING);
    this.busy = true;
    try {
      const resp = await fetch("/api/events", {
        method: "POST", keepalive, cache: "no-store",
        headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify({ events: batch }),
      });
      this.stats.sent += batch.length;
      if (resp.status === 429 || resp.status >= 500) throw new Error(`HTTP ${resp.status}`);
      let body = null;
      try { body = await resp.json(); } catch { /* no body */ }
      this.stats.accepted += body?.accepted ?? 0;
      this.stats.rejected += body?.rejected?.length ?? (resp.ok ? 0 : batch.length);
      if (body?.rejected?.length) console.warn("events refused", body.rejected);
    } catch (err) {
      // Busy or unreachable: the batch goes back in front, to be tried again a little later.
      this.stats.failed += 1;
      this.waiting.unshift(...batch);
      if (this.waiting.length > MAX_WAITING) this.stats.dropped += this.waiting.splice(MAX_WAITING).length;
      this.schedule(RETRY_MS);
      console.warn("events not sent", err);
    } finally {
      this.busy = false;
    }
    if (this.waiting.length >= FLUSH_COUNT) this.flush();
    else if (this.waiting.length) this.schedule(FLUSH_MS);
  }
}

// -- promotions -------------------------------------------------------------------------------------------

const seen = new Set(); // promotion ids shown on this page
let banner = null; // {promo, node}

/** The promotion's message in the page's language, else English, else any. */
function promoMessage(promo) {
  const m = promo?.message ?? {};
  return String(m[getLang()] ?? m.en ?? Object.values(m)[0] ?? "");
}

function discountText(pct) {
  if (typeof pct !== "number" || !(pct > 0)) return "";
  try {
    return t("promo.discount", { pct: new Intl.NumberFormat(LOCALES[getLang()], { style: "percent", maximumFractionDigits: 1 }).format(pct / 100) });
  } catch {
    return t("promo.discount", { pct: `${pct}%` });
  }
}

async function copyCode(button, code) {
  try {
    await navigator.clipboard.writeText(code);
  } catch {
    // No clipboard API (an insecure origin): select the code so that it can be copied by hand.
    const codeNode = button.closest(".promo")?.querySelector(".promo-code");
    if (codeNode) window.getSelection()?.selectAllChildren(codeNode);
  }
  button.textContent = t("promo.copied");
  clearTimeout(button.copiedTimer);
  button.copiedTimer = setTimeout(() => { button.textContent = t("promo.copy"); }, 2000);
}

function buildBanner(promo, productName) {
  const code = String(promo.code ?? "");
  const copy = h("button", { type: "button", class: "btn btn-primary btn-small promo-copy", text: t("promo.copy") });
  copy.addEventListener("click", () => copyCode(copy, code));
  const close = h("button", { type: "button", class: "promo-close", "aria-label": t("msg.dismiss"), title: t("msg.dismiss"), text: "×" });
  close.addEventListener("click", dismissPromotion);
  const about = [discountText(promo.discount_pct), productName].filter(Boolean).join(" · ");
  return h("aside", { class: "promo", role: "status", "aria-live": "polite", "data-promotion-id": promo.id ?? "" },
    h("div", { class: "promo-body" },
      h("p", { class: "promo-title", text: t("promo.title") }),
      h("p", { class: "promo-message", text: promoMessage(promo) }),
      about && h("p", { class: "promo-about", text: about }),
      h("p", { class: "promo-code-line" }, h("span", { class: "promo-code-label", text: t("promo.code") }), " ",
        h("code", { class: "promo-code", text: code }), " ", copy)),
    close);
}

/**
 * Show a promotion the server pushed ({id, code, discount_pct, product, kind, message}): once per promotion
 * on this page, and never while another one is on screen. `productName(id)` names its product. Returns
 * whether it is now shown.
 */
export function showPromotion(promo, { productName = () => null } = {}) {
  if (!promo || typeof promo !== "object" || !promo.code) return false;
  const id = String(promo.id ?? promo.code);
  if (seen.has(id) || banner) return false;
  seen.add(id);
  banner = { promo, productName, node: buildBanner(promo, productName(promo.product)) };
  document.body.append(banner.node);
  return true;
}

export function dismissPromotion() {
  banner?.node.remove();
  banner = null;
}

/** The banner again in the page's (new) language. */
export function renderPromotion() {
  if (!banner) return;
  const node = buildBanner(banner.promo, banner.productName(banner.promo.product));
  banner.node.replaceWith(node);
  banner.node = node;
}

/** What tests read: the ids shown, and the one on screen. */
export const promotions = () => ({ seen: [...seen], shown: banner ? String(banner.promo.id ?? banner.promo.code) : null });
