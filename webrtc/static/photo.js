// Photo mode: the shopper's still is posted to /api/photo with the look; the result replaces it on stage.
// Its problems are said in plain words on the stage (never over the Another photo / Close buttons): the
// server's own message goes to the console, for developers.
import { t } from "/static/i18n.js";
import { app, authHeaders, el } from "/static/state.js";
import { errorText } from "/static/util.js";
import { lookSpecs, needOf } from "/static/rail.js";
import { clearMessage, setState, showMessage, showNote, updateUI } from "/static/view.js";
import { teardownCamera } from "/static/live.js";

const PHOTO_DEBOUNCE_MS = 250;
const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"]; // what the server accepts

// -- photo mode ----------------------------------------------------------------------------------------

/** The shopper's words for the server's refusal of a photo (status, its message). */
export function photoProblem(status, detail) {
  const d = String(detail ?? "").toLowerCase();
  if (status === 503) return "err.busy";
  if (status === 413 || /too large|at most \d+ (pixels|bytes)/.test(d)) return "err.photoTooLarge";
  if (/can read|decode|damaged|truncated|corrupt/.test(d)) return "err.photoUnreadable";
  if (status === 415 || /not an image|expected a jpeg|expected jpeg/.test(d)) return "err.notImage";
  if (/at least \d+x\d+/.test(d)) return "err.photoTooSmall";
  if (/products|product|shade|intensity|look/.test(d) && !/image|decode|read/.test(d)) return "err.photoLook";
  if (status === 400) return "err.photoUnreadable";
  return "err.photo";
}

/** A list of names in the page's language ("A, B and C"). */
const listNames = (names) => (names.length < 2 ? names[0] ?? "" : t("list.and", { a: names.slice(0, -1).join(", "), b: names.at(-1) }));

/** What the photo lacked for the look: the server's counts (X-TryOn-Faces, -Bodies, -Hands; absent: not said). */
function notFound(resp) {
  const count = (name) => { const n = Number.parseInt(resp.headers.get(name) ?? "", 10); return Number.isNaN(n) ? null : n; };
  const seen = { face: count("X-TryOn-Faces"), body: count("X-TryOn-Bodies"), hand: count("X-TryOn-Hands") };
  const lines = [];
  for (const [need, key] of [["face", "info.noFaceFor"], ["body", "info.noBodyFor"], ["hand", "info.noHandFor"]]) {
    if (seen[need] !== 0) continue;
    const names = app.look.map((i) => app.catalog.get(i.productId)).filter((p) => needOf(p) === need).map((p) => p.name);
    if (names.length) lines.push({ key, vars: { names: listNames(names) } });
  }
  if (!lines.length && seen.face === 0 && !app.look.length) lines.push({ key: "info.noFace" });
  return { faces: seen.face, lines };
}

export function choosePhoto() { el.photoInput.value = ""; el.photoInput.click(); }

export function startPhoto(file) {
  const limit = app.config.limits?.photo_bytes;
  const problem = file.type && !PHOTO_TYPES.includes(file.type) ? "err.notImage" : limit && file.size > limit ? "err.photoTooLarge" : null;
  if (problem) return app.photo ? showNote({ kind: "error", lines: [{ key: problem }] }) : showMessage({ kind: "error", lines: [{ key: problem }] });
  app.gen += 1;
  teardownCamera();
  leavePhoto();
  clearMessage();
  app.note = null;
  const originalUrl = URL.createObjectURL(file);
  app.photo = { file, originalUrl, resultUrl: null, resultBlob: null, seq: 0, timer: null, controller: null, busy: false, faces: null, said: "" };
  el.photoOriginal.src = originalUrl;
  app.mode = "photo";
  setState("photo");
  postPhoto();
}

export function schedulePhoto() {
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
    const headers = authHeaders({ "Content-Type": ph.file.type || "application/octet-stream" });
    const resp = await fetch(`/api/photo?${query}`, { method: "POST", body: ph.file, headers, signal: controller.signal });
    if (!resp.ok) {
      const detail = await errorText(resp);
      if (stale()) return;
      console.warn(`photo refused (${resp.status}): ${detail}`);
      ph.said = "";
      return showNote({ kind: "error", lines: [{ key: photoProblem(resp.status, detail) }] });
    }
    const blob = await resp.blob();
    if (stale()) return;
    if (ph.resultUrl) URL.revokeObjectURL(ph.resultUrl);
    ph.resultBlob = blob;
    ph.resultUrl = el.photoResult.src = URL.createObjectURL(blob);
    const { faces, lines } = notFound(resp);
    ph.faces = faces;
    // Said once per different finding; a result with nothing missing takes the note away.
    const said = JSON.stringify(lines);
    if (said !== ph.said) showNote(lines.length ? { kind: "info", lines } : null);
    ph.said = said;
  } catch (err) {
    if (err?.name !== "AbortError" && !stale()) {
      console.warn("photo failed", err);
      showNote({ kind: "error", lines: [{ key: "err.photo" }] });
    }
  } finally {
    if (!stale()) { ph.busy = false; updateUI(); }
  }
}

export function leavePhoto() {
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
