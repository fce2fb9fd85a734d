// The speaker countdown: big digits, yellow at the warning time, red at zero, overtime
// as +MM:SS, a gentle flash at zero, the host's message. No controls.
import { Countdown, clockOf, follow, formatLeft, readToken } from "./feed.js";

const TEXT = {
  ja: {
    left: "残り時間",
    over: "時間超過",
    startsIn: "開始まで",
    held: "一時停止中",
    waitingHost: "司会の合図をお待ちください",
    next: "次",
    ended: "本日のプログラムは終了しました",
    detached: "タイマーは停止しています",
    connecting: "接続中…",
    reconnecting: "再接続中…",
    unauthorized: "このリンクでは表示できません（トークンをご確認ください）",
    trouble: "ただいま調整中です",
  },
  en: {
    left: "time left",
    over: "overtime",
    startsIn: "starts in",
    held: "paused",
    waitingHost: "wait for the host's cue",
    next: "next",
    ended: "the show has ended",
    detached: "the timer has stopped",
    connecting: "connecting…",
    reconnecting: "reconnecting…",
    unauthorized: "this link cannot show the timer (check its token)",
    trouble: "we are fixing a technical problem",
  },
};
const T = TEXT[document.documentElement.lang] || TEXT.en;

const query = new URLSearchParams(location.search);
if (query.get("transparent") === "1") document.documentElement.classList.add("transparent");

const $ = (id) => document.getElementById(id);
const countdown = new Countdown();
let token = readToken();
let tone = "normal";
let timer = 0;
let flashUntil = 0;

function render() {
  clearTimeout(timer);
  const env = countdown.envelope;
  const left = countdown.left();
  if (env) {
    const show = env.state.show;
    const slot = show.on_air;
    $("title").textContent = slot ? slot.title : show.next ? show.next.title : show.title;
    $("speakers").textContent = (slot || show.next || { speakers: [] }).speakers.join("・");
    $("digits").textContent = show.phase === "ended" || show.phase === "detached" ? "" : formatLeft(left);
    let label = "";
    if (show.phase === "ended") label = T.ended;
    else if (show.phase === "detached") label = T.detached;
    else if (show.phase === "waiting") label = T.startsIn;
    else if (show.trouble) label = T.trouble;
    else if (show.waiting_for_host) label = T.waitingHost;
    else if (show.held) label = T.held;
    else if (left !== null) label = left <= 0 ? T.over : T.left;
    $("label").textContent = label;
    const message = show.message || "";
    $("message").textContent = message;
    $("message").hidden = !message;
    const next = slot && show.next ? `${T.next} ${clockOf(show.next.expected_start)} ${show.next.title}` : "";
    $("next").textContent = next;

    const now = countdown.tone(left);
    // The flash only as zero passes (or just after a reload at zero), never later on.
    if (now === "over" && tone !== "over" && left > -5) flashUntil = performance.now() + 3200;
    tone = now;
    const main = $("timer");
    main.className = tone + (performance.now() < flashUntil ? " flash" : "") + (show.held ? " held" : "");
  }
  timer = setTimeout(render, countdown.nextTick(left));
}

function status(what) {
  const text = { connecting: T.connecting, reconnecting: T.reconnecting, unauthorized: T.unauthorized }[what];
  $("status").textContent = text || "";
  document.body.dataset.feed = what;
}

status("connecting");
render();
follow({
  token: () => token,
  messages: false,
  onEnvelope(envelope) {
    countdown.update(envelope);
    render();
  },
  onStatus: status,
});
