// Photo mode: the shopper's still is posted to /api/photo with the look; the result replaces it on stage.
import { app, authHeaders, el } from "/static/state.js";
import { errorText } from "/static/util.js";
import { lookSpecs } from "/static/rail.js";
import { clearMessage, setState, showMessage, updateUI } from "/static/view.js";
import { teardownCamera } from "/static/live.js";

const PHOTO_DEBOUNCE_MS = 250;
const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"]; // what the server accepts

// -- photo mode ----------------------------------------------------------------------------------------

export function choosePhoto() { el.photoInput.value = ""; el.photoInput.click(); }

export function startPhoto(file) {
  const limit = app.config.limits?.photo_bytes;
  const problem = file.type && !PHOTO_TYPES.includes(file.type) ? "err.notImage" : limit && file.size > limit ? "err.photoTooLarge" : null;
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
