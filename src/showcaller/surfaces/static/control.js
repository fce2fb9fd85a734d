// The host's page: the show's commands as buttons, the timetable with expected times,
// stream and recording, marks, check results and every message. It only shows the
// state and sends commands; the show's logic stays in showcaller.
import { Countdown, clockOf, follow, formatLeft, readToken, storeToken } from "./feed.js";
import { renderCards } from "./cards.js";

// Everything the host reads, in the event's language (event.language: ja first, en).
const TEXT = {
  ja: {
    tokenLabel: "操作用トークン（showcaller が表示した URL の #token=… か SHOWCALLER_WEB__TOKEN）",
    tokenUse: "使う",
    next: "次へ ▶",
    back: "◀ 戻る",
    hold: "一時停止",
    resume: "再開",
    less: "−1 分",
    more: "+1 分",
    skip: (n, title) => `次をスキップ（${n} ${title}）`,
    skipNone: "次をスキップ（なし）",
    trouble: "トラブル画面",
    troubleOff: "トラブル画面を戻す",
    start: "今すぐ開始",
    checks: "接続チェック",
    messagePlaceholder: "登壇者タイマーに出す一言",
    send: "送信",
    clear: "消去",
    onTimer: "タイマー表示中: ",
    cardsTitle: "MC 台本",
    outputsTitle: "配信と録画",
    stream: "配信",
    record: "録画",
    health: "配信状態",
    notify: "通知",
    timetableTitle: "タイムテーブル",
    expected: "予定",
    slot: "枠",
    checksTitle: "接続チェック",
    speaker: "登壇者",
    part: "項目",
    verdict: "結果",
    value: "測定値",
    noChecks: "チェック結果はまだありません",
    messagesTitle: "メッセージ",
    endTitle: "終了",
    end: "番組を終了",
    endKeep: "終了（配信は続ける）",
    detach: "切り離す",
    endConfirm: "もう一度タップで終了",
    endKeepConfirm: "もう一度タップ: 終了・配信は続ける",
    detachConfirm: "もう一度タップで OBS から切り離す",
    endHelp: "終了すると録画を止めます（本番では配信も。「配信は続ける」以外）。切り離すと showcaller だけが終わり、OBS はそのままです。",
    mode: { rehearsal: "リハーサル", live: "本番" },
    phase: { waiting: "待機中", on_air: "オンエア", ended: "終了", detached: "切り離し済み" },
    link: { connecting: "接続中", identifying: "認証中", ready: "接続済み", "backing off": "再接続待ち", "auth failed": "認証失敗", stopped: "停止" },
    obs: (state) => `OBS: ${state}`,
    feed: { connecting: "更新: 接続中…", live: "更新: 接続中", reconnecting: "更新: 切断（再接続中…）", unauthorized: "更新: トークンが違います", ended: "更新: 終了（番組終了）" },
    kind: { standby: "開始前", opening: "オープニング", talk: "発表", lt: "LT", qa: "質疑応答", break: "休憩", closing: "クロージング" },
    waiting: "開始前",
    untilStart: "開始まで",
    left: "残り",
    overtime: "超過",
    startsAt: (title, at) => `${title}（${at} 開始）`,
    scene: "シーン",
    held: "一時停止中",
    troubleOn: "トラブル画面をオンエア中",
    waitingHost: "司会待ち（手動で次へ）",
    onTime: "定刻どおり",
    late: (d) => `${d} 遅れ`,
    early: (d) => `${d} 早い`,
    delay: (text) => text,
    nextSlot: (n, title, at) => `次: ${n} ${title}（${at}）`,
    plan: (at) => `当初 ${at}`,
    slotState: { upcoming: "予定", on_air: "オンエア", done: "終了", skipped: "スキップ", passed: "見送り（オンエアなし）" },
    jumpHere: "ここへ",
    jumpConfirm: "もう一度タップで今すぐこの枠へ",
    skipSlot: "スキップ",
    unskip: "戻す",
    pin: "枠が変わっても残す",
    pinned: "（固定）",
    thisSlot: (n) => `（${n} の間）`,
    resumed: (n, s) => `再起動から復帰: ${n}（${s} 秒停止）`,
    verdictWord: { pass: "OK", warn: "要確認", fail: "失敗", "not checked": "未チェック", checking: "チェック中" },
    partWord: { video: "映像", audio: "音声", slides: "スライド" },
    markStatus: { due: "予定", done: "済み", failed: "失敗", skipped: "スキップ" },
    at: (t) => ` ${t}`,
    notKnown: "まだ不明",
    off: "オフ",
    onAir: "配信中",
    recording: "録画中",
    reconnecting: "再接続中",
    paused: "一時停止",
    offAir: "配信していません",
    dropped: "ドロップ",
    skipped: "スキップ",
    disk: (m) => `ディスク残り ${m} 分`,
    sent: (n) => `${n} 件送信`,
    waitingN: (n) => `${n} 件待ち`,
    failed: (n) => `${n} 件失敗`,
    droppedN: (n) => `${n} 件破棄`,
    noToken: "操作用トークンがありません: 上に貼り付けてください",
    confirmAgain: (what) => `もう一度タップで実行: ${what}`,
    tokenRefused: "このページのリンク（トークン）は使えません。showcaller が再起動して新しいトークンになりました。showcaller の画面に出た新しい「host page」のリンクを開いてください。",
    noAnswer: (e) => `showcaller から応答がありません（${e}）`,
    command: { next: "次へ", back: "戻る", hold: "一時停止", resume: "再開", extend: "時間変更", skip: "スキップ", unskip: "スキップ取消", jump: "ジャンプ", trouble: "トラブル画面", start: "開始", checks: "接続チェック", message: "タイマーの一言", end: "終了", detach: "切り離し" },
    cards: { onAir: "オンエア中", next: "次", atStart: "始めに", atEnd: "終わりに", nothing: "なし", post: "投稿案", postOn: "X に投稿 ↗" },
  },
  en: {
    tokenLabel: "Control token (from the URL showcaller printed, or SHOWCALLER_WEB__TOKEN)",
    tokenUse: "Use",
    next: "Next ▶",
    back: "◀ Back",
    hold: "Hold",
    resume: "Resume",
    less: "−1 min",
    more: "+1 min",
    skip: (n, title) => `Skip next (${n} ${title})`,
    skipNone: "Skip next (none)",
    trouble: "Trouble scene",
    troubleOff: "Trouble off",
    start: "Start now",
    checks: "Run checks",
    messagePlaceholder: "a line for the speaker timer",
    send: "Send",
    clear: "Clear",
    onTimer: "on the timer: ",
    cardsTitle: "MC cue cards",
    outputsTitle: "Stream and recording",
    stream: "stream",
    record: "record",
    health: "health",
    notify: "notify",
    timetableTitle: "Timetable",
    expected: "expected",
    slot: "slot",
    checksTitle: "Checks",
    speaker: "speaker",
    part: "part",
    verdict: "result",
    value: "value",
    noChecks: "no check results yet",
    messagesTitle: "Messages",
    endTitle: "End",
    end: "End the show",
    endKeep: "End, keep the stream",
    detach: "Detach",
    endConfirm: "Tap again: end the show",
    endKeepConfirm: "Tap again: end, stream stays on",
    detachConfirm: "Tap again: detach from OBS",
    endHelp: "End stops the recording (and in live the stream, unless kept); Detach quits and leaves OBS exactly as it is.",
    mode: { rehearsal: "rehearsal", live: "live" },
    phase: { waiting: "waiting", on_air: "on air", ended: "ended", detached: "detached" },
    link: {},
    obs: (state) => `OBS: ${state}`,
    feed: { connecting: "updates: connecting…", live: "updates: connected", reconnecting: "updates: disconnected (reconnecting…)", unauthorized: "updates: token refused", ended: "updates: ended (show over)" },
    kind: {},
    waiting: "waiting",
    untilStart: "until the start",
    left: "left",
    overtime: "overtime",
    startsAt: (title, at) => `${title} at ${at}`,
    scene: "scene",
    held: "held",
    troubleOn: "trouble scene on air",
    waitingHost: "waiting for you (manual end)",
    onTime: "on time",
    late: (d) => `+${d} late`,
    early: (d) => `−${d} early`,
    delay: (text) => text,
    nextSlot: (n, title, at) => `next: ${n} ${title} at ${at}`,
    plan: (at) => `plan ${at}`,
    slotState: { upcoming: "upcoming", on_air: "on air", done: "done", skipped: "skipped", passed: "passed over (never on air)" },
    jumpHere: "jump here",
    jumpConfirm: "tap again: this slot now",
    skipSlot: "skip",
    unskip: "unskip",
    pin: "keep across slots",
    pinned: " (pinned)",
    thisSlot: (n) => ` (during ${n})`,
    resumed: (n, s) => `resumed after a restart: ${n} (${s} s away)`,
    verdictWord: {},
    partWord: {},
    markStatus: {},
    at: (t) => ` at ${t}`,
    notKnown: "not known yet",
    off: "off",
    onAir: "on air",
    recording: "recording",
    reconnecting: "reconnecting",
    paused: "paused",
    offAir: "off air",
    dropped: "dropped",
    skipped: "skipped",
    disk: (m) => `disk ${m} min`,
    sent: (n) => `${n} sent`,
    waitingN: (n) => `${n} waiting`,
    failed: (n) => `${n} failed`,
    droppedN: (n) => `${n} dropped`,
    noToken: "no control token: paste it above",
    confirmAgain: (what) => `Tap again to ${what}`,
    tokenRefused: "This page's link (its token) no longer works: showcaller was restarted with a new one. Open the new host page link showcaller printed.",
    noAnswer: (e) => `showcaller did not answer (${e})`,
    command: {},
    cards: { onAir: "on air", next: "next", atStart: "at the start", atEnd: "at the end", nothing: "nothing to say", post: "post draft", postOn: "Post on X ↗" },
  },
};
const LANG = document.documentElement.lang === "ja" ? "ja" : "en";
const T = TEXT[LANG];
// A word from one of T's tables, or the word itself (English needs no table).
const word = (table, key) => (T[table] && T[table][key]) || key;

const $ = (id) => document.getElementById(id);
const countdown = new Countdown();
const messages = new Map(); // seq -> message, for this connection's showcaller
let token = readToken({ forget: true });
let ticker = 0;
let armedJump = null; // {slot, until}: a jump button tapped once

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
  if (Math.abs(seconds) < 1) return T.onTime;
  return seconds > 0 ? T.late(duration(seconds)) : T.early(duration(-seconds));
}

// "4/13": a slot's number counted from 1, of the evening's slots (a show started from
// a later slot lists only the slots from there on: the last one's number is the count).
function slotNumber(slot, show) {
  const last = show.slots[show.slots.length - 1];
  return `${slot.index + 1}/${last ? last.index + 1 : show.slots.length}`;
}

// The page's fixed words, from the data-t attributes.
function translatePage() {
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = T[node.dataset.t];
  for (const node of document.querySelectorAll("[data-t-placeholder]")) node.placeholder = T[node.dataset.tPlaceholder];
  for (const node of document.querySelectorAll("[data-t-confirm]")) node.dataset.confirm = T[node.dataset.tConfirm];
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
    !show ? "" : show.phase === "waiting" ? T.untilStart : left !== null && left <= 0 ? T.overtime : left !== null ? T.left : "";
  ticker = setTimeout(renderClock, countdown.nextTick(left));
}

function render(envelope) {
  const state = envelope.state;
  const show = state.show;
  document.title = `${show.title} — showcaller`;
  $("event").textContent = show.title;
  $("mode").textContent = word("mode", show.mode);
  $("mode").className = "badge mode-" + show.mode;
  $("phase").textContent = word("phase", show.phase);
  $("phase").className = "badge phase-" + show.phase;
  $("link").textContent = T.obs(word("link", state.link));
  $("link").className = "badge " + (state.link === "ready" ? "ok" : "bad");
  document.body.dataset.phase = show.phase;

  const slot = show.on_air;
  $("onair-index").textContent = slot ? slotNumber(slot, show) : "";
  $("onair-kind").textContent = slot ? word("kind", slot.kind) : show.phase === "waiting" ? T.waiting : "";
  $("onair-title").textContent = slot ? slot.title : show.phase === "waiting" && show.next ? T.startsAt(show.next.title, clockOf(show.next.expected_start, true)) : "—";
  $("onair-who").textContent = slot ? [slot.speakers.join(", "), `${T.scene} ${show.program_scene || slot.scene}`].filter(Boolean).join(" · ") : "";
  const flags = [];
  if (show.resumed) {
    const at = show.slots.find((s) => s.index === show.resumed.slot);
    flags.push([T.resumed(at ? slotNumber(at, show) : "—", Math.round(show.resumed.away_s)), "warn"]);
  }
  if (show.held) flags.push([T.held, "warn"]);
  if (show.trouble) flags.push([T.troubleOn, "bad"]);
  if (show.waiting_for_host) flags.push([T.waitingHost, "warn"]);
  $("onair-flags").replaceChildren(...flags.map(([text, kind]) => el("span", { class: "badge " + kind }, text)));
  $("delay").textContent = show.phase === "on_air" || show.phase === "waiting" ? T.delay(delayText(show.delay_s)) : "";
  $("next").textContent = show.next ? T.nextSlot(slotNumber(show.next, show), show.next.title, clockOf(show.next.expected_start, true)) : "";

  const hold = $("btn-hold");
  hold.textContent = show.held ? T.resume : T.hold;
  hold.dataset.command = JSON.stringify({ command: show.held ? "resume" : "hold" });
  $("btn-trouble").classList.toggle("on", show.trouble);
  $("btn-trouble").textContent = show.trouble ? T.troubleOff : T.trouble;
  $("btn-start").hidden = show.phase !== "waiting";
  // Skip names the slot it skips, and sends that slot's number: what the host read is
  // what goes, even if the show moves on between the look and the tap.
  const skip = $("btn-skip");
  skip.textContent = show.next ? T.skip(slotNumber(show.next, show), show.next.title) : T.skipNone;
  skip.dataset.command = JSON.stringify(show.next ? { command: "skip", slot: show.next.index + 1 } : { command: "skip" });
  skip.disabled = !show.next;
  const owner = show.slots.find((s) => s.index === show.message_slot);
  const scope = show.message_pinned ? T.pinned : owner ? T.thisSlot(slotNumber(owner, show)) : "";
  $("current-message").textContent = show.message ? T.onTimer + show.message + scope : "";

  $("stream").textContent = output(state.stream, T.onAir);
  $("record").textContent = output(state.record, T.recording);
  $("health").textContent = healthText(state.health);
  $("health").className = state.health && state.health.status === "warning" ? "warn" : "";
  $("notify").textContent = notifyText(state.notify);
  $("notify").className = state.notify && (state.notify.failed || state.notify.dropped) ? "warn" : "";
  $("marks").replaceChildren(
    ...show.marks.map((m) =>
      el("li", { class: "mark-" + m.status }, `${m.label}${m.at ? T.at(clockOf(m.at, true)) : ""}: ${word("markStatus", m.status)}${m.detail ? " — " + m.detail : ""}`),
    ),
  );

  $("timetable").tBodies[0].replaceChildren(
    ...show.slots.map((s) => {
      const planned = clockOf(s.planned_start);
      const expected = clockOf(s.expected_start);
      const when = el("td", { class: "when" }, expected || planned);
      if (planned && expected && planned !== expected) when.append(el("div", { class: "planned" }, T.plan(planned)));
      return el(
        "tr",
        { class: "slot-" + s.state },
        el("td", {}, String(s.index + 1)),
        when,
        el("td", {}, el("div", {}, s.title), el("div", { class: "dim" }, [word("kind", s.kind), s.speakers.join(", ")].filter(Boolean).join(" · "))),
        el("td", { class: "state" }, word("slotState", s.state)),
        el("td", { class: "actions" }, ...slotActions(s, show)),
      );
    }),
  );

  $("checks").tBodies[0].replaceChildren(
    ...state.checks.map((c) =>
      el("tr", { class: "verdict-" + c.verdict.replace(" ", "-") }, el("td", {}, c.name), el("td", {}, word("partWord", c.part)), el("td", {}, word("verdictWord", c.verdict)), el("td", {}, [c.value, c.hint].filter(Boolean).join(" — "))),
    ),
  );
  $("no-checks").hidden = state.checks.length > 0;

  renderCards($("cards"), state.cards, T.cards);

  for (const m of envelope.messages) messages.set(m.seq, m);
  const newest = [...messages.values()].sort((a, b) => b.seq - a.seq).slice(0, 200);
  $("messages").replaceChildren(
    ...newest.map((m) => el("li", { class: "level-" + m.level, value: String(m.seq) }, el("span", { class: "at" }, clockOf(m.at, true)), " ", m.text)),
  );
}

// Stream health in a few words (docs/health.md); "—" when it is not watched.
// A slot row's buttons: jump here (two taps), skip an upcoming slot, unskip a skipped one
// still ahead. Each sends the slot's number as the host reads it (from 1).
function slotActions(s, show) {
  const n = s.index + 1;
  const onAir = show.on_air ? show.on_air.index : -1;
  const buttons = [];
  if (s.state !== "on_air" && show.phase !== "ended" && show.phase !== "detached") {
    // The table is drawn anew with every state: an armed button stays armed across that.
    const armed = armedJump && armedJump.slot === n && armedJump.until > Date.now();
    const jump = el("button", { "data-command": JSON.stringify({ command: "jump", slot: n }), "data-confirm": T.jumpConfirm, "data-jump": String(n), class: armed ? "small armed" : "small" }, armed ? T.jumpConfirm : T.jumpHere);
    if (armed) jump.dataset.label = T.jumpHere;
    buttons.push(jump);
  }
  if (s.state === "upcoming") {
    buttons.push(el("button", { "data-command": JSON.stringify({ command: "skip", slot: n }), class: "small" }, T.skipSlot));
  }
  if (s.state === "skipped" && s.index > onAir) {
    buttons.push(el("button", { "data-command": JSON.stringify({ command: "unskip", slot: n }), class: "small" }, T.unskip));
  }
  return buttons;
}

function healthText(h) {
  if (!h) return "—";
  if (!h.active) return T.offAir;
  const words = [h.bitrate_kbps === null ? "… kbps" : Math.round(h.bitrate_kbps) + " kbps"];
  if (h.reconnecting) words.push(T.reconnecting);
  if (h.dropped_frames) words.push(`${T.dropped} ${h.dropped_percent.toFixed(1)}%`);
  if (h.skipped_frames) words.push(`${T.skipped} ${h.skipped_percent.toFixed(1)}%`);
  if (h.disk_left_min !== null) words.push(T.disk(Math.round(h.disk_left_min)));
  words.push(`CPU ${Math.round(h.cpu_percent)}%`);
  return (h.status === "ok" ? "✓ " : "! ") + words.join(" · ");
}

// The notification webhooks (docs/notify.md); "—" when there are none.
function notifyText(n) {
  if (!n) return "—";
  const waiting = n.pending ? " · " + T.waitingN(n.pending) : "";
  if (!n.failed && !n.dropped) return `✓ ${T.sent(n.sent)}${waiting}`;
  const lost = T.failed(n.failed) + (n.dropped ? ", " + T.droppedN(n.dropped) : "");
  return `! ${lost}${n.last_error ? " — " + n.last_error : ""}${waiting}`;
}

function output(view, onText) {
  if (!view) return T.notKnown;
  if (!view.active) return T.off;
  const parts = [view.reconnecting ? T.reconnecting : view.paused ? T.paused : onText, duration(view.duration_s)];
  if (view.file) parts.push(view.file);
  return parts.join(" · ");
}

// --------------------------------------------------------------------- commands

// `button`: the button that sent it; when the show asks to confirm (live: a command that
// moves the show by more than a minute), that button asks for a second tap.
async function send(command, button) {
  const result = $("result");
  if (!token) {
    askToken();
    result.textContent = T.noToken;
    result.className = "result refused";
    return;
  }
  result.textContent = "…";
  result.className = "result";
  try {
    const response = await fetch("api/commands", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify(command),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 401) tokenRefused();
    if (response.status === 409 && answer.confirm && button) {
      armConfirm(button, { ...command, confirm: true }, T.confirmAgain(answer.confirm));
      result.textContent = `? ${word("command", command.command)}: ${T.confirmAgain(answer.confirm)}`;
      result.className = "result asking";
      return;
    }
    const text = answer.message || answer.error || `HTTP ${response.status}`;
    const ok = response.ok && answer.ok;
    // The command in the page's words; the show's answer as the show says it.
    result.textContent = `${ok ? "✓" : "✗"} ${word("command", command.command)}: ${text}`;
    result.className = "result " + (ok ? "ok" : "refused");
  } catch (error) {
    result.textContent = `✗ ${word("command", command.command)}: ${T.noAnswer(error.message)}`;
    result.className = "result refused";
  }
}

// A dead token (a showcaller restarted without its kept token) is said plainly, at the top.
function tokenRefused() {
  $("token-refused").hidden = false;
  askToken();
}

function askToken() {
  $("token-form").hidden = false;
  $("token-input").focus();
}

// The show asked to confirm: the button now says what a second tap within 4 s does.
function armConfirm(button, confirmed, label) {
  clearTimeout(button.timeout);
  if (!button.classList.contains("armed")) button.dataset.label = button.textContent;
  button.textContent = label;
  button.classList.add("armed");
  button.dataset.confirmed = JSON.stringify(confirmed);
  button.timeout = setTimeout(() => disarm(button), 4000);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-command]");
  if (!button) return;
  if (button.dataset.confirmed) {
    const confirmed = JSON.parse(button.dataset.confirmed);
    disarm(button);
    send(confirmed, button);
    return;
  }
  if (button.dataset.confirm && !button.classList.contains("armed")) {
    // Two taps for what cannot be undone: a misplaced thumb must not end the show.
    button.dataset.label = button.textContent;
    button.textContent = button.dataset.confirm;
    button.classList.add("armed");
    button.timeout = setTimeout(() => disarm(button), 4000);
    if (button.dataset.jump) armedJump = { slot: Number(button.dataset.jump), until: Date.now() + 4000 };
    return;
  }
  // A second tap of a two-tap button is the host's confirmation: the show does not ask again.
  const confirmed = button.classList.contains("armed");
  if (confirmed) disarm(button);
  armedJump = null;
  const command = JSON.parse(button.dataset.command);
  send(confirmed ? { ...command, confirm: true } : command, button);
});

function disarm(button) {
  clearTimeout(button.timeout);
  button.classList.remove("armed");
  delete button.dataset.confirmed;
  if (button.dataset.label) button.textContent = button.dataset.label;
}

$("message-form").addEventListener("submit", (event) => {
  event.preventDefault();
  send({ command: "message", text: $("message-input").value, pin: $("message-pin").checked });
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
  $("token-refused").hidden = true;
});

// ------------------------------------------------------------------------- feed

translatePage();
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
    $("feed").textContent = word("feed", what);
    $("feed").className = "badge " + (what === "live" ? "ok" : "bad");
    document.body.dataset.feed = what;
    if (what === "unauthorized") tokenRefused();
  },
});
