// The show's push channel read with fetch (the studio: EventSource cannot send the Authorization header).
// Server-sent events parsed by hand: "event:", "data:" (several lines joined by "\n"), ":" comments,
// a blank line ends an event (https://html.spec.whatwg.org/multipage/server-sent-events.html).

/** An HTTP refusal of the stream: `status` and the server's message. */
export class StreamRefused extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/** Feed text to `parse` as it comes; it calls `onEvent(type, data)` for each complete event. */
export function sseParser(onEvent) {
  let buffer = "";
  let type = "";
  let data = [];
  const line = (text) => {
    if (text === "") {
      if (data.length) onEvent(type || "message", data.join("\n"));
      type = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return; // a comment: the server's keep-alive ping
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
  };
  return (chunk) => {
    buffer += chunk;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop(); // an unfinished line waits for the next chunk (a lone "\r" at the end too: harmless)
    lines.forEach(line);
  };
}

/**
 * Read the event stream at `url` until it ends or `signal` aborts, calling `onEvent(type, parsedJson)`.
 * Throws StreamRefused for a non-2xx answer; returns when the server closes the stream.
 */
export async function readEventStream(url, { headers = {}, signal, onEvent, onOpen }) {
  const resp = await fetch(url, { headers: { Accept: "text/event-stream", ...headers }, cache: "no-store", signal });
  if (!resp.ok) {
    let message = `HTTP ${resp.status}`;
    try { message = (await resp.json()).error ?? message; } catch { /* not JSON */ }
    throw new StreamRefused(resp.status, message);
  }
  onOpen?.();
  const parse = sseParser((type, text) => {
    let data;
    try { data = JSON.parse(text); } catch { return console.warn("event stream: not JSON", type, text); }
    onEvent(type, data);
  });
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    parse(value);
  }
}
