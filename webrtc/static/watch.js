// Watching a show: the server (or its SFU) makes the offer, the page answers once its ICE candidates are
// gathered (no trickle: at most ICE_GATHER_TIMEOUT_MS), the show's video and sound play in `video`.
//   POST /api/shows/<id>/watch          {}                       → 201 {watch, type: "offer", sdp}
//   POST /api/shows/<id>/watch/<wid>    {type: "answer", sdp}    → 204
//   DELETE /api/shows/<id>/watch/<wid>                            → 204 (closed)
import { errorText, waitForIceGathering } from "/static/util.js";

const ICE_GATHER_TIMEOUT_MS = 3000;

/** A refusal of the watch request: `status` (503: the embedded relay is full) and the server's message. */
export class WatchRefused extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/**
 * Start watching show `id` with the viewer `token`; `onState(state, info)` hears "connecting", "answering"
 * (info: {gathering, candidates} as the answer leaves), "playing", "lost" (the connection failed or closed). Returns {close(), pc, wid}; throws WatchRefused.
 */
export async function watchShow({ id, token, video, iceServers = [], onState = () => {} }) {
  const base = `/api/shows/${encodeURIComponent(id)}/watch`;
  const headers = { "Content-Type": "application/json", "X-Viewer-Token": token };
  const resp = await fetch(base, { method: "POST", headers, body: "{}" });
  if (!resp.ok) throw new WatchRefused(resp.status, await errorText(resp));
  const offer = await resp.json();
  const wid = offer.watch;
  const pc = new RTCPeerConnection({ iceServers });
  let closed = false;
  const handle = {
    pc, wid, answeredAt: null,
    close(keepalive = false) {
      if (closed) return;
      closed = true;
      try { pc.close(); } catch { /* already closed */ }
      if (video.srcObject && handle.stream === video.srcObject) video.srcObject = null;
      fetch(`${base}/${encodeURIComponent(wid)}`, { method: "DELETE", headers: { "X-Viewer-Token": token }, keepalive }).catch(() => {});
    },
  };
  pc.ontrack = (e) => {
    // The show's video and its sound in one stream (an SFU may put them in two), played by `video`,
    // which stays muted until the viewer asks for sound.
    handle.stream ??= new MediaStream();
    if (!handle.stream.getTrackById(e.track.id)) handle.stream.addTrack(e.track);
    if (video.srcObject !== handle.stream) video.srcObject = handle.stream;
    if (e.track.kind !== "video") return;
    video.play?.().catch(() => {});
    const first = () => !closed && onState("playing");
    if (typeof video.requestVideoFrameCallback === "function") video.requestVideoFrameCallback(first);
    else video.addEventListener("loadeddata", first, { once: true });
  };
  pc.onconnectionstatechange = () => {
    if (!closed && ["failed", "closed"].includes(pc.connectionState)) onState("lost");
  };
  try {
    onState("connecting");
    await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await waitForIceGathering(pc, ICE_GATHER_TIMEOUT_MS); // the answer carries every candidate
    if (closed) return handle;
    const sdp = pc.localDescription.sdp;
    onState("answering", { gathering: pc.iceGatheringState, candidates: (sdp.match(/^a=candidate:/gm) ?? []).length });
    const answered = await fetch(`${base}/${encodeURIComponent(wid)}`, {
      method: "POST", headers, body: JSON.stringify({ type: "answer", sdp }),
    });
    if (!answered.ok) throw new WatchRefused(answered.status, await errorText(answered));
    handle.answeredAt = performance.now();
  } catch (err) {
    handle.close();
    throw err;
  }
  return handle;
}
