// The page's shared state: every module reads and writes these objects, none keeps its own copy.
//   el     every element with an id, camel-cased (el.remoteVideo is #remote-video), filled by app.js at start
//   app    the mutable state: mode, look, catalog, the live camera session, photo mode, message, stats
//   tryon  what tests and tools read, as window.tryon (kept in step by updateUI and the stats handlers)

export const el = {}; // every element with an id, camel-cased: el.remoteVideo is #remote-video
export const params = new URLSearchParams(location.search);
// An offer token for a server reached from another machine comes in the URL's fragment
// (#token=...), which the browser never sends to a server or puts in a Referer; it is then
// dropped from the address bar.
const fragment = new URLSearchParams(location.hash.slice(1));
export const offerToken = fragment.get("token") || sessionStorage.getItem("tryon.token") || null;
if (fragment.has("token")) {
  sessionStorage.setItem("tryon.token", offerToken);
  history.replaceState(null, "", location.pathname + location.search);
}
/** Headers for a request that opens a session or runs a photo: the token when there is one. */
export function authHeaders(headers = {}) {
  return offerToken ? { ...headers, Authorization: `Bearer ${offerToken}` } : headers;
}
export const app = {
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
  endpoint: null, // where a camera session is opened: {url, headers(h)}; null: POST /offer with authHeaders
  // The microphone goes with the camera only where a page asks for it (the studio: the show's sound).
  // Never on the shopper's page: a shopper's audio is not sent anywhere.
  microphone: false,
  onMicrophone: null, // (state, track, error) once the microphone was asked for: "on" (track sent) | "refused" | "none"
  onDetail: null, // (product or null) whenever the details panel is drawn (the shopper's page: impressions, recommendations)
  onPromotion: null, // (promotion) one came on the control channel (the shopper's page shows it)
  cam: null, // the live session: {stream, pc, dc, session, offered, gotFrame, timers, closing}
  photo: null, // photo mode: {file, originalUrl, resultUrl, resultBlob, seq, timer, controller, busy, faces}
  message: null, messageTimer: null, snapshotBusy: false,
  lastStats: null, browserStats: null,
};
export const tryon = { state: "idle", session: null, lastStats: null, look: [], lang: "en" };
window.tryon = tryon;
