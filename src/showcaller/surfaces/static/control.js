// The host's page: the show's commands as buttons, the timetable with expected times,
// stream and recording, marks, check results and every message. It only shows the
// state and sends commands; the show's logic stays in showcaller.
import { Countdown, clockOf, follow, formatLeft, readToken, storeToken } from "/static/feed.js";
import { renderCards } from "/static/cards.js";

const $ = (id) => document.getElementById(id);
const countdown = new Countdown();
const messages = new Map(); // seq -> message, for this connection's showcaller
let token = readToken({ forget: true });
let ticker = 0;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child); // text is text: never parsed as HTML
  return node;
}

function duration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return (h ? h + ":" + pad(m) : m) + ":" + pad(s);
}

function delayText(seconds) {
  if (Math.abs(seconds) < 1) return "on time";
  return (seconds > 0 ? "+" : "−") + duration(Math.abs(seconds)) + (seconds > 0 ? " late" : " early");
}

// ------------------------------------------------------------------ state → page

function renderClock() {
  clearTimeout(ticker);
  const left = countdown.left();
  const digits = $("digits");
  digits.textContent = formatLeft(left);
  digits.className = "digits " + countdown.tone(left);
  const show = countdown.envelope?.state.show;
  $("clock-label").textContent =
    !show ? "" : show.phase === "waiting" ? "until the start" : left !== null && left <= 0 ? "overtime" : left !== null ? "left" : "";
  ticker = setTimeout(renderClock, countdown.nextTick(left));
}

function render(envelope) {
  const state = envelope.state;
  const show = state.show;
  document.title = `${show.title} — showcaller`;
  $("event").textContent = show.title;
  $("mode").textContent = show.mode;
  $("mode").className = "badge mode-" + show.mode;
  $("phase").textContent = show.phase.replace("_", " ");
  $("link").textContent = "OBS " + state.link;
  $("link").className = "badge " + (state.link === "ready" ? "ok" : "bad");
  document.body.dataset.phase = show.phase;

  const slot = show.on_air;
  $("onair-index").textContent = slot ? `#${slot.index + 1}` : "";
  $("onair-kind").textContent = slot ? slot.kind : show.phase === "waiting" ? "waiting" : "";
  $("onair-title").textContent = slot ? slot.title : show.phase === "waiting" && show.next ? `${show.next.title} at ${clockOf(show.next.expected_start, true)}` : "—";
  $("onair-who").textContent = slot ? [slot.speakers.join(", "), "scene " + (show.program_scene || slot.scene)].filter(Boolean).join(" · ") : "";
  const flags = [];
  if (show.held) flags.push(["held", "warn"]);
  if (show.trouble) flags.push(["trouble scene on air", "bad"]);
  if (show.waiting_for_host) flags.push(["waiting for you (manual end)", "warn"]);
  $("onair-flags").replaceChildren(...flags.map(([text, kind]) => el("span", { class: "badge " + kind }, text)));
  $("delay").textContent = show.phase === "on_air" || show.phase === "waiting" ? "delay " + delayText(show.delay_s) : "";
  $("next").textContent = show.next ? `next: #${show.next.index + 1} ${show.next.title} at ${clockOf(show.next.expected_start, true)}` : "";

  const hold = $("btn-hold");
  hold.textContent = show.held ? "Resume" : "Hold";
  hold.dataset.command = JSON.stringify({ command: show.held ? "resume" : "hold" });
  $("btn-trouble").classList.toggle("on", show.trouble);
  $("btn-trouble").textContent = show.trouble ? "Trouble off" : "Trouble scene";
  $("btn-start").hidden = show.phase !== "waiting";
  $("current-message").textContent = show.message ? "on the timer: " + show.message : "";

  $("stream").textContent = output(state.stream, "on air");
  $("record").textContent = output(state.record, "recording");
  $("health").textContent = healthText(state.health);
  $("health").className = state.health && state.health.status === "warning" ? "warn" : "";
  $("notify").textContent = notifyText(state.notify);
  $("notify").className = state.notify && (state.notify.failed || state.notify.dropped) ? "warn" : "";
  $("marks").replaceChildren(
    ...show.marks.map((m) =>
      el("li", { class: "mark-" + m.status }, `${m.label}${m.at ? " at " + clockOf(m.at, true) : ""}: ${m.status}${m.detail ? " — " + m.detail : ""}`),
    ),
  );

  $("timetable").tBodies[0].replaceChildren(
    ...show.slots.map((s) => {
      const planned = clockOf(s.planned_start);
      const expected = clockOf(s.expected_start);
      const when = el("td", { class: "when" }, expected || planned);
      if (planned && expected && planned !== expected) when.append(el("div", { class: "planned" }, "plan " + planned));
      return el(
        "tr",
        { class: "slot-" + s.state },
        el("td", {}, String(s.index + 1)),
        when,
        el("td", {}, el("div", {}, s.title), el("div", { class: "dim" }, [s.kind, s.speakers.join(", ")].filter(Boolean).join(" · "))),
        el("td", { class: "state" }, s.state.replace("_", " ")),
      );
    }),
  );

  $("checks").tBodies[0].replaceChildren(
    ...state.checks.map((c) =>
      el("tr", { class: "verdict-" + c.verdict.replace(" ", "-") }, el("td", {}, c.name), el("td", {}, c.part), el("td", {}, c.verdict), el("td", {}, [c.value, c.hint].filter(Boolean).join(" — "))),
    ),
  );
  $("no-checks").hidden = state.checks.length > 0;

  renderCards($("cards"), state.cards);

  for (const m of envelope.messages) messages.set(m.seq, m);
  const newest = [...messages.values()].sort((a, b) => b.seq - a.seq).slice(0, 200);
  $("messages").replaceChildren(
    ...newest.map((m) => el("li", { class: "level-" + m.level, value: String(m.seq) }, el("span", { class: "at" }, clockOf(m.at, true)), " ", m.text)),
  );
}

// Stream health in a few words (docs/health.md); "—" when it is not watched.
function healthText(h) {
  if (!h) return "—";
  if (!h.active) return "off air";
  const words = [h.bitrate_kbps === null ? "… kbps" : Math.round(h.bitrate_kbps) + " kbps"];
  if (h.reconnecting) words.push("reconnecting");
  if (h.dropped_frames) words.push(`dropped ${h.dropped_percent.toFixed(1)}%`);
  if (h.skipped_frames) words.push(`skipped ${h.skipped_percent.toFixed(1)}%`);
  if (h.disk_left_min !== null) words.push(`disk ${Math.round(h.disk_left_min)} min`);
  words.push(`CPU ${Math.round(h.cpu_percent)}%`);
  return (h.status === "ok" ? "✓ " : "! ") + words.join(" · ");
}

// The notification webhooks (docs/notify.md); "—" when there are none.
function notifyText(n) {
  if (!n) return "—";
  const waiting = n.pending ? ` · ${n.pending} waiting` : "";
  if (!n.failed && !n.dropped) return `✓ ${n.sent} sent${waiting}`;
  const lost = `${n.failed} failed` + (n.dropped ? `, ${n.dropped} dropped` : "");
  return `! ${lost}${n.last_error ? " — " + n.last_error : ""}${waiting}`;
}

function output(view, onText) {
  if (!view) return "not known yet";
  if (!view.active) return "off";
  const parts = [view.reconnecting ? "reconnecting" : view.paused ? "paused" : onText, duration(view.duration_s)];
  if (view.file) parts.push(view.file);
  return parts.join(" · ");
}

// --------------------------------------------------------------------- commands

async function send(command) {
  const result = $("result");
  if (!token) {
    askToken();
    result.textContent = "no control token: paste it above";
    result.className = "result refused";
    return;
  }
  result.textContent = "…";
  result.className = "result";
  try {
    const response = await fetch("/api/commands", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify(command),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 401) askToken();
    const text = answer.message || answer.error || `HTTP ${response.status}`;
    result.textContent = `${command.command}: ${text}`;
    result.className = "result " + (response.ok && answer.ok ? "ok" : "refused");
  } catch (error) {
    result.textContent = `${command.command}: showcaller did not answer (${error.message})`;
    result.className = "result refused";
  }
}

function askToken() {
  $("token-form").hidden = false;
  $("token-input").focus();
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-command]");
  if (!button) return;
  if (button.dataset.confirm && !button.classList.contains("armed")) {
    // Two taps for what cannot be undone: a misplaced thumb must not end the show.
    button.dataset.label = button.textContent;
    button.textContent = button.dataset.confirm;
    button.classList.add("armed");
    button.timeout = setTimeout(() => disarm(button), 4000);
    return;
  }
  if (button.classList.contains("armed")) disarm(button);
  send(JSON.parse(button.dataset.command));
});

function disarm(button) {
  clearTimeout(button.timeout);
  button.classList.remove("armed");
  if (button.dataset.label) button.textContent = button.dataset.label;
}

$("message-form").addEventListener("submit", (event) => {
  event.preventDefault();
  send({ command: "message", text: $("message-input").value });
});
$("btn-clear").addEventListener("click", () => {
  $("message-input").value = "";
  send({ command: "message", text: "" });
});
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token-input").value.trim();
  $("token-input").value = "";
  storeToken(token);
  $("token-form").hidden = true;
});

// ------------------------------------------------------------------------- feed

if (!token) askToken();
renderClock();
follow({
  token: () => token,
  onEnvelope(envelope, first) {
    if (first) messages.clear(); // a (re)started showcaller numbers its messages anew
    countdown.update(envelope);
    render(envelope);
    renderClock();
  },
  onStatus(what) {
    const labels = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", unauthorized: "token refused", ended: "show over" };
    $("feed").textContent = labels[what] || what;
    $("feed").className = "badge " + (what === "live" ? "ok" : "bad");
    document.body.dataset.feed = what;
    if (what === "unauthorized") askToken();
  },
});
