// Camera mode: getUserMedia → RTCPeerConnection (no trickle ICE) → POST /offer → processed video back.
// The microphone goes too only where the page sets app.microphone (the studio: the show's sound); the
// shopper's page is camera-only.
// The look and the view options travel on the "control" data channel; its stats and trace messages also
// feed the developers' HUD (hud.js, which polls the browser's own stats).
import { app, authHeaders, el, tryon } from "/static/state.js";
import { errorText, round4, sameList, throttle, waitForIceGathering } from "/static/util.js";
import { lookAcked, lookProducts, lookSpecs } from "/static/rail.js";
import { clearMessage, renderStats, setState, showMessage, updateUI } from "/static/view.js";
import { leavePhoto } from "/static/photo.js";
import { hudMessage, hudStats, resetHud } from "/static/hud.js";

const CONNECT_TIMEOUT_MS = 15000; // pc created → "connected"
const FIRST_FRAME_TIMEOUT_MS = 15000; // "connected" → first processed frame and open channel
const DISCONNECT_GRACE_MS = 5000;
const ICE_GATHER_TIMEOUT_MS = 3000;
const SEND_INTERVAL_MS = 100; // sliders: at most 10 messages a second, the final value always sent

// -- data channel: page → server -------------------------------------------------------------------------

export function send(type, fields) {
  const dc = app.cam?.dc;
  if (dc?.readyState !== "open") return false;
  dc.send(JSON.stringify({ type, id: app.nextId++, ...fields }));
  return true;
}

// Makeup items at their own intensity go as {product, intensity}; the overall intensity scales makeup only.
export const sendLook = () => send("look", { products: lookProducts(), intensity: app.intensity });
export const sendPause = () => send("pause", { paused: el.pause.checked });
export function sendSplit() {
  if (!el.compareToggle.checked) return send("split", { position: null });
  const p = Number(el.split.value) / 100;
  // The display is mirrored: "before" must stay on the displayed left, so it is the frame's right.
  return el.mirror.checked ? send("split", { position: round4(1 - p), before: "right" }) : send("split", { position: round4(p), before: "left" });
}
export const intensityThrottled = throttle(() => app.mode === "camera" && sendLook(), SEND_INTERVAL_MS);
export const splitThrottled = throttle(() => app.mode === "camera" && sendSplit(), SEND_INTERVAL_MS);

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

export async function startCamera() {
  const gen = ++app.gen;
  clearMessage();
  leavePhoto();
  teardownCamera();
  app.mode = "camera";
  app.lastStats = null;
  resetHud();
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
  if (app.microphone) {
    // Asked after the camera, on its own: a refused or missing microphone never stops the camera.
    const mic = await openMicrophone();
    if (gen !== app.gen) return [...stream.getTracks(), ...(mic.track ? [mic.track] : [])].forEach((tr) => tr.stop());
    if (mic.track) stream.addTrack(mic.track);
    app.onMicrophone?.(mic.state, mic.track ?? null, mic.error ?? null);
  }
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

const MIC_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** The microphone, for a page that sends it (app.microphone): {state: "on", track} | {state: "refused"|"none", error}. */
async function openMicrophone() {
  try {
    const mic = await navigator.mediaDevices.getUserMedia({ audio: MIC_CONSTRAINTS, video: false });
    const track = mic.getAudioTracks()[0];
    return track ? { state: "on", track } : { state: "none" };
  } catch (err) {
    const missing = ["NotFoundError", "DevicesNotFoundError", "OverconstrainedError", "NotReadableError"].includes(err?.name);
    return { state: missing ? "none" : "refused", error: err };
  }
}

async function connect(cam) {
  const pc = (cam.pc = new RTCPeerConnection({ iceServers: app.config.ice_servers ?? [] }));
  pc.addTransceiver(cam.stream.getVideoTracks()[0], { direction: "sendrecv", streams: [cam.stream] });
  // Only where the page asked for the microphone (the studio); nothing comes back on it.
  const mic = cam.stream.getAudioTracks()[0];
  if (mic) pc.addTransceiver(mic, { direction: "sendonly", streams: [cam.stream] });
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
    // The shopper's POST /offer, or where the page says (the studio: its show's publish, with the show's key).
    const { url = "/offer", headers = authHeaders } = app.endpoint ?? {};
    resp = await fetch(url, { method: "POST", headers: headers({ "Content-Type": "application/json" }), body });
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
  if (typeof video.requestVideoFrameCallback === "function") {
    // Every frame put on screen: remember its RTP timestamp, so that a snapshot is of that very
    // frame (the server keeps the last few and finds it by this timestamp).
    const onFrame = (_now, meta) => {
      if (app.cam !== cam) return;
      first();
      cam.shownRtp = Number.isInteger(meta?.rtpTimestamp) ? meta.rtpTimestamp : null;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } else video.addEventListener("loadeddata", first, { once: true });
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
  if (!sameList(lookSpecs(), cam.offered) || app.intensity !== 1 || lookProducts().some((x) => typeof x === "object")) sendLook();
  if (el.compareToggle.checked) sendSplit();
  if (el.pause.checked) sendPause();
  checkLive(cam);
}

function onChannelMessage(cam, e) {
  if (app.cam !== cam) return;
  let msg;
  try { msg = JSON.parse(e.data); } catch { return console.warn("control channel: not JSON", e.data); }
  if (hudMessage(msg)) return; // the developers' HUD's trace: its ack, its error, the file written
  if (msg?.type === "hello" && msg.session && !cam.session) {
    cam.session = msg.session;
    updateUI();
  } else if (msg?.type === "error") {
    showMessage({ kind: "error", lines: [{ key: "err.server" }], detail: String(msg.message ?? "") });
  } else if (msg?.type === "stats") {
    app.lastStats = tryon.lastStats = msg;
    hudStats(msg);
    renderStats();
  } else if (msg?.type === "promotion") {
    app.onPromotion?.(msg); // the shopper's page shows it (engage.js); elsewhere: nothing
  } else if (msg?.type === "ack") {
    lookAcked(msg); // what the server replaced (a clashing pair: the later wins) leaves the look here too
  } // "pong" and unknown types: nothing to do
}

export function teardownCamera() {
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
