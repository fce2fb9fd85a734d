// Every room at once (GET api/rooms, once a second): on air, next, delay, OBS link,
// stream, failing speaker checks in red. The read token comes from the URL's fragment.

const POLL_MS = 1000;

function readToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = "showcaller-token:" + location.pathname;
  let token = params.get("token");
  if (token) {
    sessionStorage.setItem(key, token);
    history.replaceState(null, "", location.pathname + location.search);
  } else {
    token = sessionStorage.getItem(key);
  }
  return token || "";
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function delay(seconds) {
  const s = Math.round(seconds);
  if (Math.abs(s) < 60) return (s >= 0 ? "+" : "−") + Math.abs(s) + " s";
  const m = Math.round(Math.abs(s) / 60);
  return (s >= 0 ? "+" : "−") + m + " min";
}

function card(line) {
  const room = el("section", "room");
  room.dataset.room = line.room;
  const title = el("h2");
  title.append(el("span", "name", line.room));
  if (line.waiting) {
    title.append(" · not started");
    room.append(title);
    return room;
  }
  title.append(" · " + line.title);
  room.append(title);
  const trouble = line.link !== "ready" || line.failing.length > 0;
  room.classList.toggle("trouble", trouble);
  room.append(el("div", "onair", line.on_air || "—"));
  room.append(el("div", "next", line.next ? "next " + line.next : ""));
  const facts = el("div", "facts");
  facts.append("delay " + delay(line.delay_s) + " · OBS ");
  facts.append(el("span", line.link === "ready" ? "link" : "link bad", line.link));
  facts.append(" · stream ");
  facts.append(el("span", line.stream === "reconnecting" ? "stream bad" : "stream", line.stream));
  room.append(facts);
  if (line.failing.length > 0) {
    const list = el("ul", "failing");
    for (const check of line.failing) list.append(el("li", "", check));
    room.append(list);
  }
  if (line.pages) {
    const links = el("div", "links");
    const timer = el("a", "", "timer");
    timer.href = "rooms/" + encodeURIComponent(line.room) + "/timer";
    const control = el("a", "", "control");
    control.href = "rooms/" + encodeURIComponent(line.room) + "/control";
    links.append(timer, " ", control);
    room.append(links);
  }
  return room;
}

async function poll(token) {
  const status = document.getElementById("feed");
  for (;;) {
    try {
      const headers = token ? { Authorization: "Bearer " + token } : {};
      const response = await fetch("api/rooms", { headers, cache: "no-store" });
      if (response.status === 401) {
        status.textContent = "this page needs its read link (#token=…)";
      } else if (!response.ok) {
        throw new Error("HTTP " + response.status);
      } else {
        const body = await response.json();
        document.getElementById("rooms").replaceChildren(...body.rooms.map(card));
        status.textContent = "live";
        document.body.dataset.feed = "live";
      }
    } catch {
      status.textContent = "reconnecting";
      document.body.dataset.feed = "reconnecting";
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

poll(readToken());
