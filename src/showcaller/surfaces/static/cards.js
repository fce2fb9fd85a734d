// The MC's cue cards on the host's page: what to say as the slot on air starts and ends,
// what to say for the next slot, and the post draft with a link that opens X's post box.
// It only shows `state.cards` (docs/cards.md); the texts are made by showcaller.

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child); // text is text: never parsed as HTML
  return node;
}

function part(label, text, name) {
  if (!text) return [];
  return [el("div", { class: "cue-part cue-" + name }, el("div", { class: "cue-when" }, label), el("p", { class: "cue-text" }, text))];
}

function post(draft, T) {
  if (!draft) return [];
  const link = el("a", { class: "post-link", href: draft.intent_url, target: "_blank", rel: "noopener noreferrer" }, T.postOn);
  return [
    el(
      "div",
      { class: "post" },
      el("div", { class: "cue-when" }, `${T.post} · ${draft.weight}/280`),
      el("p", { class: "post-text" }, draft.text),
      link,
    ),
  ];
}

function cue(which, label, card, parts, T) {
  if (!card) return el("div", { class: "cue cue-empty", id: "cue-" + which }, el("div", { class: "cue-head" }, label + ": —"));
  const said = parts.flatMap(([name, text]) => part(name === "intro" ? T.atStart : T.atEnd, text, name));
  return el(
    "div",
    { class: "cue", id: "cue-" + which },
    el("div", { class: "cue-head" }, el("span", { class: "cue-label" }, label), ` #${card.index + 1} ${card.start} `, el("span", { class: "cue-title" }, card.title)),
    ...(said.length ? said : [el("p", { class: "dim" }, T.nothing)]),
    ...post(card.post, T),
  );
}

const ENGLISH = { onAir: "on air", next: "next", atStart: "at the start", atEnd: "at the end", nothing: "nothing to say", post: "post draft", postOn: "Post on X ↗" };

// Draws `cards` (state.cards: {on_air, next} or null) into the element `section`, its
// words from `T` (the page's language; English by default).
export function renderCards(section, cards, T = ENGLISH) {
  section.hidden = !cards;
  if (!cards) return;
  const onAir = cards.on_air;
  const next = cards.next;
  section.querySelector(".cues").replaceChildren(
    cue("onair", T.onAir, onAir, onAir ? [["intro", onAir.intro], ["outro", onAir.outro]] : [], T),
    cue("next", T.next, next, next ? [["intro", next.intro]] : [], T),
  );
}
