// "Try it on me" on the viewer's page: the viewer's own camera through the shopper's session flow
// (POST /offer with the look, no trickle ICE, the "control" data channel of webrtc/control.py), the
// processed video in `video`. The show keeps playing in its own element.
import { errorText, waitForIceGathering } from "/static/util.js";

const ICE_GATHER_TIMEOUT_MS = 3000;

/** Why a try-on could not start: `key` names the text to show (i18n), `detail` the browser's or server's words. */
export class TryError extends Error {
  constructor(key, detail) { super(detail || key); this.key = key; this.detail = detail; }
}

function cameraKey(err) {
  const name = err?.name ?? "";
  if (["NotAllowedError", "PermissionDeniedError", "SecurityError"].includes(name)) return "show.err.cameraDenied";
  if (["NotFoundError", "DevicesNotFoundError", "OverconstrainedError"].includes(name)) return "err.noCamera";
  if (["NotReadableError", "TrackStartError", "AbortError"].includes(name)) return "err.cameraInUse";
  return "err.camera";
}

/**
 * Open the camera and a try-on session wearing `look` (["product[:shade]"]). `onMessage(msg)` hears the
 * control channel (hello, ack, stats, error), `onState(state)` hears "live" (first processed frame) and
 * "lost". `headers` go with the offer (a show's viewer: X-Viewer-Token, which stands for the offer token).
 * Returns {close(), setLook(look), session}; throws TryError.
 */
export async function tryOn({ look, video, headers = {}, camera = {}, iceServers = [], onMessage = () => {}, onState = () => {} }) {
  if (!navigator.mediaDevices?.getUserMedia || !window.RTCPeerConnection) throw new TryError("err.noMediaDevices");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: camera.width ?? 640 }, height: { ideal: camera.height ?? 480 }, facingMode: "user" }, audio: false,
    });
  } catch (err) {
    throw new TryError(cameraKey(err), err?.message);
  }
  const pc = new RTCPeerConnection({ iceServers });
  const dc = pc.createDataChannel("control", { ordered: true }); // before the offer
  let closed = false;
  let nextId = 1;
  const handle = {
    session: null,
    close() {
      if (closed) return;
      closed = true;
      try { dc.close(); } catch { /* already closed */ }
      try { pc.close(); } catch { /* already closed */ }
      stream.getTracks().forEach((tr) => tr.stop());
      video.srcObject = null;
    },
    setLook(products) {
      if (dc.readyState !== "open") return false;
      dc.send(JSON.stringify({ type: "look", id: nextId++, products, intensity: 1 }));
      return true;
    },
  };
  dc.onmessage = (e) => {
    let msg;
    try { msg = JSON.parse(e.data); } catch { return; }
    if (msg?.type === "hello" && msg.session) handle.session = msg.session;
    onMessage(msg);
  };
  pc.ontrack = (e) => {
    if (e.track.kind !== "video") return;
    video.srcObject = e.streams?.[0] ?? new MediaStream([e.track]);
    video.play?.().catch(() => {});
    const first = () => !closed && onState("live");
    if (typeof video.requestVideoFrameCallback === "function") video.requestVideoFrameCallback(first);
    else video.addEventListener("loadeddata", first, { once: true });
  };
  pc.onconnectionstatechange = () => {
    if (!closed && ["failed", "closed"].includes(pc.connectionState)) onState("lost");
  };
  try {
    pc.addTransceiver(stream.getVideoTracks()[0], { direction: "sendrecv", streams: [stream] });
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc, ICE_GATHER_TIMEOUT_MS);
    if (closed) return handle;
    const body = JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer", products: look });
    let resp;
    try {
      resp = await fetch("/offer", { method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body });
    } catch (err) {
      throw new TryError("err.connectFailed", err?.message);
    }
    if (!resp.ok) throw new TryError(resp.status === 503 ? "err.busy" : "err.connectFailed", await errorText(resp));
    const answer = await resp.json();
    handle.session = answer.session ?? handle.session;
    if (!closed) await pc.setRemoteDescription({ type: answer.type || "answer", sdp: answer.sdp });
  } catch (err) {
    handle.close();
    throw err instanceof TryError ? err : new TryError("err.connectFailed", err?.message);
  }
  return handle;
}
