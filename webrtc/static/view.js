// The stage and page chrome, drawn from `app`: body data-state/data-mode, what the stage shows, badges,
// control states, the before/after divider, the #message toast, the stage's note (photo mode's problems,
// drawn on the stage so they never cover its buttons), the hint of what the camera should see, the frozen
// frame while paused (the shopper's page); the developers' HUD is hud.js's.
import { LOCALES, getLang, t } from "/static/i18n.js";
import { app, el, tryon } from "/static/state.js";
import { h, sameList } from "/static/util.js";
import { lookSpecs, needOf, takesIntensity } from "/static/rail.js";
import { startCamera } from "/static/live.js";
import { choosePhoto } from "/static/photo.js";
import { renderHud } from "/static/hud.js";

const TOAST_MS = { info: 8000, error: 12000 };

// -- messages ------------------------------------------------------------------------------------------

/**
 * Show {kind: "error"|"info", lines: [{key, vars}], detail, actions: ["retry"|"photo"|{id, key, run}], sticky} in #message.
 */
export function showMessage(msg) {
  app.message = { kind: "error", actions: [], ...msg };
  clearTimeout(app.messageTimer);
  if (!app.message.sticky) app.messageTimer = setTimeout(clearMessage, TOAST_MS[app.message.kind] ?? 10000);
  renderMessage();
}

export function clearMessage() { clearTimeout(app.messageTimer); app.message = null; renderMessage(); }

export function renderMessage() {
  const m = app.message;
  if (!m) { el.message.replaceChildren(); return el.message.removeAttribute("data-kind"); }
  el.message.dataset.kind = m.kind;
  const actions = m.actions.map((a) => (typeof a === "object"
    ? h("button", { type: "button", id: a.id, class: "btn btn-secondary btn-small", text: t(a.key), onclick: a.run })
    : a === "retry"
      ? h("button", { type: "button", id: "retry", class: "btn btn-primary btn-small", text: t("msg.retry"), onclick: startCamera })
      : h("button", { type: "button", id: "message-photo", class: "btn btn-secondary btn-small", text: t("msg.usePhoto"), onclick: choosePhoto })));
  el.message.replaceChildren(
    h("div", { class: "message-text" }, ...m.lines.map((l) => h("p", { text: t(l.key, l.vars) })),
      m.detail && h("p", { class: "message-detail", text: m.detail }),
      actions.length > 0 && h("div", { class: "message-actions" }, ...actions)),
    h("button", { type: "button", class: "message-close", "aria-label": t("msg.dismiss"), title: t("msg.dismiss"), text: "×", onclick: clearMessage }));
}

/** A note on the stage, {kind, lines: [{key, vars}]} (photo mode's problems), where the page has one; else a message. */
export function showNote(note) {
  if (!el.stageNote) return note && showMessage({ kind: note.kind, lines: note.lines });
  app.note = note;
  renderNote();
}

export function renderNote() {
  if (!el.stageNote) return;
  const n = app.note;
  el.stageNote.hidden = !n;
  if (!n) return el.stageNote.replaceChildren();
  el.stageNote.dataset.kind = n.kind;
  el.stageNote.replaceChildren(h("div", { class: "stage-note-text" }, ...n.lines.map((l) => h("p", { text: t(l.key, l.vars) }))),
    h("button", { type: "button", class: "stage-note-close", "aria-label": t("msg.dismiss"), title: t("msg.dismiss"), text: "×",
      onclick: () => showNote(null) }));
}

/** What the camera should see for the look, from the stats' `seen` ({faces, hands, bodies}): one hint at a time. */
export function renderHint() {
  if (!el.hint) return;
  const seen = app.lastStats?.seen;
  // Stats of the look worn now only (what an older look needed may not have been looked for).
  const current = Array.isArray(app.lastStats?.look) && sameList(app.lastStats.look, lookSpecs());
  let key = null;
  if (app.mode === "camera" && app.state === "live" && !el.pause.checked && current && seen && typeof seen === "object") {
    const needs = new Set(app.look.map((i) => needOf(app.catalog.get(i.productId))));
    if (needs.has("face") && seen.faces === 0) key = "hint.face";
    else if (needs.has("body") && seen.bodies === 0) key = "hint.body";
    else if (needs.has("hand") && seen.hands === 0) key = "hint.hand";
  }
  el.hint.hidden = !key;
  el.hint.dataset.hint = key ?? "";
  el.hint.textContent = key ? t(key) : "";
  tryon.hint = key;
}

/** Pause on the shopper's page freezes the picture: the frame on screen, drawn on a canvas over the video. */
function freezeFrame() {
  const v = el.remoteVideo;
  if (!v.videoWidth) return false;
  el.freeze.width = v.videoWidth;
  el.freeze.height = v.videoHeight;
  el.freeze.getContext("2d").drawImage(v, 0, 0);
  app.frozen = { rtp: app.cam?.shownRtp ?? null };
  return true;
}

// -- state and view ------------------------------------------------------------------------------------

export function setState(state) { app.state = state; updateUI(); }

/** Put the photo and the before/after overlay exactly over the displayed picture (object-fit: contain). */
export function layoutStage() {
  const img = el.photoResult.naturalWidth ? el.photoResult : el.photoOriginal;
  const [w, hh] = app.mode === "photo" ? [img.naturalWidth, img.naturalHeight] : [el.remoteVideo.videoWidth, el.remoteVideo.videoHeight];
  const [bw, bh] = [el.stage.clientWidth, el.stage.clientHeight];
  const s = w && hh ? Math.min(bw / w, bh / hh) : 0;
  const r = s ? { left: (bw - w * s) / 2, top: (bh - hh * s) / 2, width: w * s, height: hh * s } : { left: 0, top: 0, width: bw, height: bh };
  for (const node of [el.photoFrame, el.splitWrap]) {
    Object.assign(node.style, { left: `${r.left}px`, top: `${r.top}px`, width: `${r.width}px`, height: `${r.height}px` });
  }
}

export function updateSplitView() {
  const p = Number(el.split.value);
  el.splitWrap.style.setProperty("--split", `${p}%`);
  const clip = app.mode === "photo" && el.compareToggle.checked && app.photo?.resultUrl;
  el.photoOriginal.style.clipPath = clip ? `inset(0 ${100 - p}% 0 0)` : ""; // the original shows left of the divider
}

export function updateUI() {
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
  if (el.freeze) {
    const freeze = camera && state === "live" && el.pause.checked;
    if (!freeze) app.frozen = null;
    else if (!app.frozen) freezeFrame();
    el.freeze.hidden = !app.frozen;
  }
  if (!photo && app.note) app.note = null;
  renderNote();
  // Intensity is a makeup notion: the overall slider only while the look holds makeup.
  const makeup = app.look.some((i) => takesIntensity(app.catalog.get(i.productId)?.kind));
  el.intensity.closest(".control-intensity").hidden = !makeup;

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
    lang: getLang(), intensity: app.intensity, faces: app.photo?.faces ?? null, frozen: !!app.frozen });
  layoutStage();
  updateSplitView();
  renderHint();
}

// -- the developers' HUD (hud.js) ------------------------------------------------------------------------

/** New stats (or a new language): the camera hint, and the HUD when it is on. */
export function renderStats() {
  renderHint();
  renderHud();
}
