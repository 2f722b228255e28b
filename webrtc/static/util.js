// Small helpers without page state: element building, formatting, throttling, HTTP errors, downloads.

export function h(tag, attrs = {}, ...children) {
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

export const safeColor = (c) => (/^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(c || "") ? c : "#c9a2ad");
export const round4 = (x) => Math.round(x * 1e4) / 1e4;
export const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
export const num = (x, digits = 1) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–");

/** Run `fn` at most once per `ms`, with a trailing call so the latest values always go out. */
export function throttle(fn, ms) {
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
export async function errorText(resp) {
  let text = "";
  try { text = await resp.text(); } catch { /* unreadable body: use the status */ }
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === "string") return body.error;
  } catch { /* not JSON */ }
  return text.trim().slice(0, 300) || `HTTP ${resp.status} ${resp.statusText}`.trim();
}

/** Wait until `pc` has gathered its ICE candidates (no trickle: the description then carries them all), at most `ms`. */
export function waitForIceGathering(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); pc.removeEventListener("icegatheringstatechange", check); resolve(); };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** The server's page settings (/api/config) merged over `defaults` (camera merged field by field);
 *  `defaults` as they are when the server cannot be asked. */
export async function fetchConfig(defaults) {
  try {
    const resp = await fetch("/api/config", { cache: "no-store" });
    if (!resp.ok) throw new Error(await errorText(resp));
    const cfg = await resp.json();
    return { ...defaults, ...cfg, camera: { ...defaults.camera, ...(cfg.camera ?? {}) } };
  } catch (err) {
    console.warn("could not load /api/config; using defaults", err);
    return defaults;
  }
}
