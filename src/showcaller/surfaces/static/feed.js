// The state feed of a showcaller page: Server-Sent Events read through fetch(), so the
// token travels in the Authorization header and never in a URL; it reconnects by itself
// (showcaller stopped, restarted, the laptop slept) and says how it is doing.

const QUIET_LIMIT_MS = 40000; // the server writes at least every 15 s; silence this long = dead
const RETRY_MS = [300, 1000, 2000, 5000];

// The token from the URL's fragment (#token=...), which no browser sends to a server.
// `forget`: take it out of the address bar (kept for this tab only, for reloads).
export function readToken({ forget = false } = {}) {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = "showcaller-token:" + location.pathname;
  let token = params.get("token");
  if (token) {
    sessionStorage.setItem(key, token);
    if (forget) {
      params.delete("token");
      const rest = params.toString();
      history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
    }
  } else {
    token = sessionStorage.getItem(key);
  }
  return token || "";
}

export function storeToken(token) {
  sessionStorage.setItem("showcaller-token:" + location.pathname, token);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Follow /api/events: onEnvelope({sent_at, speed, language, messages, state}, first)
// for each state, onStatus("connecting" | "live" | "reconnecting" | "unauthorized" | "ended").
export async function follow({ token, messages = true, onEnvelope, onStatus }) {
  let attempt = 0;
  for (;;) {
    const abort = new AbortController();
    let watchdog = 0;
    const quiet = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => abort.abort(), QUIET_LIMIT_MS);
    };
    try {
      quiet();
      const headers = token() ? { Authorization: "Bearer " + token() } : {};
      const response = await fetch("api/events" + (messages ? "" : "?messages=0"), {
        headers,
        cache: "no-store",
        signal: abort.signal,
      });
      if (response.status === 401) {
        onStatus("unauthorized");
        await sleep(5000);
        continue;
      }
      if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
      attempt = 0;
      onStatus("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let first = true;
      let ended = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        quiet();
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = parseEvent(block);
          if (event.name === "state") {
            onEnvelope(JSON.parse(event.data), first);
            first = false;
          } else if (event.name === "end") {
            ended = true;
          }
        }
      }
      onStatus(ended ? "ended" : "reconnecting");
    } catch (error) {
      onStatus("reconnecting");
    } finally {
      clearTimeout(watchdog);
      abort.abort();
    }
    await sleep(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
    attempt += 1;
  }
}

function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  return { name, data: data.join("\n") };
}

// An ISO time as showcaller writes it (microseconds, offset) in milliseconds.
export function instant(iso) {
  if (!iso) return NaN;
  return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
}

// "19:42" (or "19:42:30") in the event's own time zone: the ISO text already is.
export function clockOf(iso, seconds = false) {
  return iso ? iso.slice(11, seconds ? 19 : 16) : "";
}

// The countdown of the slot on air (or to the first slot's start while waiting), run
// locally between two states from the last state and the show's speed.
export class Countdown {
  constructor() {
    this.envelope = null;
    this.at = 0;
  }

  update(envelope) {
    this.envelope = envelope;
    this.at = performance.now();
  }

  // Show seconds left (negative: overtime), or null when there is nothing to count.
  left() {
    const env = this.envelope;
    if (!env) return null;
    const show = env.state.show;
    const ticking = (performance.now() - this.at) / 1000 * env.speed;
    const lag = (instant(env.sent_at) - instant(show.now)) / 1000;
    if (show.phase === "on_air" && show.on_air && show.time_left_s !== null) {
      return show.held ? show.time_left_s : show.time_left_s - lag - ticking;
    }
    if (show.phase === "waiting" && show.next) {
      return (instant(show.next.expected_start) - instant(env.sent_at)) / 1000 - ticking;
    }
    return null;
  }

  // "normal", "warning" (at the warning time) or "over" (at zero and after).
  tone(left) {
    const show = this.envelope?.state.show;
    if (left === null || !show || show.phase !== "on_air" || !show.on_air) return "normal";
    if (left <= 0) return "over";
    // The engine's rule, in the state (5 min before a talk's end, 1 before an LT's).
    return show.warning_s !== null && left <= show.warning_s ? "warning" : "normal";
  }

  // Milliseconds until the display changes (the next whole second), for the next tick.
  nextTick(left) {
    const speed = this.envelope ? this.envelope.speed : 1;
    if (left === null || this.envelope?.state.show.held) return 1000;
    const fraction = left - Math.floor(left) || 1;
    return Math.min(1000, Math.max(50, (fraction * 1000) / speed + 5));
  }
}

// "12:34", "1:02:03", "+01:05" (overtime); "--:--" for nothing.
export function formatLeft(left) {
  if (left === null || Number.isNaN(left)) return "--:--";
  const total = left > 0 ? Math.ceil(left - 1e-6) : Math.floor(-left + 1e-6);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  const text = (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s);
  return (left <= 0 && total > 0 ? "+" : "") + text;
}
