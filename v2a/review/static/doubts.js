/* v2a review: walk the doubts (v2a check). A strip along the video's timeline shows what the
   prose covers (covered, uncovered, doubtful); "n" / "p" (or the buttons) go to the next or
   previous open doubt: the video plays its moment, the transcript line or section is marked,
   and the panel says why, with what it might be instead. Fixed / Correct as is / Ignore are
   kept in review.json (by the doubt's id) across re-runs. All text is set with textContent. */
(() => {
  "use strict";
  const $ = (sel, el = document) => el.querySelector(sel);
  const $$ = (sel, el = document) => [...el.querySelectorAll(sel)];
  const meta = (n) => document.querySelector(`meta[name="${n}"]`).content;
  const API = meta("v2a-api");
  const CSRF = meta("v2a-csrf");
  const player = $("#player");
  const COLORS = { covered: "#8fbf8f", uncovered: "#d9d9d9", doubtful: "#e07b5f" };
  let doubts = [];
  let at = -1;

  async function api(method, path, body) {
    const res = await fetch(`${API}/checks${path}`, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-V2A-CSRF": CSRF },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const out = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(out.error || `HTTP ${res.status}`);
    return out;
  }

  function el(tag, props = {}, ...kids) {
    const e = document.createElement(tag);
    Object.assign(e, props);
    kids.forEach((k) => e.append(k));
    return e;
  }

  const box = el("div", { id: "doubts", className: "doubts" });
  const strip = el("div", { className: "coverage", title: "What the prose covers" });
  const head = el("div", { className: "dhead" });
  const panel = el("div", { className: "dpanel", hidden: true });
  box.append(strip, head, panel);
  Object.assign(box.style, { padding: "6px 8px", fontSize: "13px", borderBottom: "1px solid #ddd" });
  Object.assign(strip.style, { display: "flex", height: "10px", margin: "4px 0", borderRadius: "3px", overflow: "hidden" });

  function open() { return doubts.filter((d) => !d.resolved); }

  function drawStrip(cov, total) {
    strip.replaceChildren();
    const end = total || (cov.spans.length ? cov.spans[cov.spans.length - 1].end : 0) || 1;
    let t = 0;
    for (const s of cov.spans) {
      if (s.start > t) strip.append(part(t, s.start, "uncovered", end, true));
      strip.append(part(s.start, s.end, s.state, end, false));
      t = s.end;
    }
    if (t < end) strip.append(part(t, end, "uncovered", end, true));
  }
  function part(a, b, state, end, silence) {
    const p = el("span", { className: `cov ${silence ? "silence" : state}`, title: silence ? "" : state });
    p.dataset.t = String(a);
    Object.assign(p.style, { flex: `${Math.max(b - a, 0)} 0 0`, background: silence ? "transparent" : COLORS[state] });
    return p;
  }

  function drawHead() {
    const left = open();
    const high = left.filter((d) => d.severity === "high").length;
    head.replaceChildren(
      el("strong", { textContent: `${left.length} doubts open` }),
      el("span", { textContent: high ? ` (${high} high)` : "" }),
      " ",
      el("button", { textContent: "◂ prev", className: "dprev", title: "Previous doubt (p)" }),
      " ",
      el("button", { textContent: "next ▸", className: "dnext", title: "Next doubt (n)" }),
    );
  }

  function located(d) {
    const before = $$("li[data-seg]").filter((li) => Number(li.dataset.t) <= d.start + 0.01);
    return before[before.length - 1] || null;
  }

  /* The existing line fix (review.js): the line's editor opens, with the suggestion in place of
     the doubtful words when there is one; saving it offers the change everywhere and in the
     glossary. */
  function fixLine(d) {
    const li = located(d);
    const btn = li && li.querySelector("button.fix");
    if (!btn) return;
    const det = li.closest("details");
    if (det) det.open = true;
    btn.click();
    const input = li.querySelector("input.fix-in");
    const alt = (d.suggestion || "").split(" / ")[0];
    if (input && alt && input.value.includes(d.text)) input.value = input.value.replace(d.text, alt);
  }

  function mark(d) {
    $$(".doubt-at").forEach((e) => { e.classList.remove("doubt-at"); e.style.outline = ""; });
    let target = null;
    const lines = $$("li[data-seg]").filter((li) => Number(li.dataset.t) <= d.start + 0.01);
    if (d.where === "transcript" && lines.length) {
      target = lines[lines.length - 1];
      const det = target.closest("details");
      if (det) det.open = true;
    } else {
      target = $$("section.sec").find((s) => d.start >= Number(s.dataset.start) && d.start < Number(s.dataset.end));
    }
    if (target) {
      target.classList.add("doubt-at");
      target.style.outline = "2px solid " + COLORS.doubtful;
      target.scrollIntoView({ block: "center" });
    }
  }

  /* Every open doubt marked where it is: its transcript line, or the paragraph it is about. */
  function highlight() {
    $$(".has-doubt").forEach((e) => { e.classList.remove("has-doubt"); e.style.boxShadow = ""; });
    const lines = $$("li[data-seg]");
    const paras = $$(".prose p[data-start]");
    for (const d of open()) {
      let target = null;
      if (d.where === "transcript") {
        const before = lines.filter((li) => Number(li.dataset.t) <= d.start + 0.01);
        target = before[before.length - 1];
      } else if (d.where === "prose") {
        target = paras.find((p) => Math.abs(Number(p.dataset.start) - d.start) < 0.01);
      }
      if (target) {
        target.classList.add("has-doubt");
        target.style.boxShadow = `inset 3px 0 0 ${COLORS.doubtful}`;
        target.title = `${target.title ? target.title + "\n" : ""}doubt: ${d.evidence}`;
      }
    }
  }

  function show(k) {
    const list = open();
    if (!list.length) { panel.hidden = true; panel.replaceChildren(); drawHead(); return; }
    at = ((k % list.length) + list.length) % list.length;
    const d = list[at];
    panel.hidden = false;
    panel.dataset.id = d.id;
    panel.replaceChildren(
      el("div", { className: "dwhat", textContent: `${at + 1}/${list.length} · ${d.severity} · ${d.kind}` }),
      el("div", { className: "dtext", textContent: d.text }),
      el("div", { className: "dwhy", textContent: d.evidence }),
      d.suggestion ? el("div", { className: "dsugg", textContent: `might be: ${d.suggestion}` }) : "",
      el("div", {},
        d.where === "transcript" && located(d) ? el("button", { textContent: "Fix the line…", className: "dfix", title: "Correct the transcript line (then offered everywhere and in the glossary)" }) : "",
        " ",
        el("button", { textContent: "Fixed", className: "dres", value: "fixed" }), " ",
        el("button", { textContent: "Correct as is", className: "dres", value: "correct" }), " ",
        el("button", { textContent: "Ignore", className: "dres", value: "ignore" })),
    );
    mark(d);
    if (player) {
      const go = () => { player.currentTime = d.start; const p = player.play(); if (p) p.catch(() => {}); };
      if (player.readyState >= 1) go(); else player.addEventListener("loadedmetadata", go, { once: true });
    }
  }

  async function resolve(id, value) {
    await api("POST", `/${encodeURIComponent(id)}`, { resolution: value });
    const d = doubts.find((x) => x.id === id);
    if (d) d.resolved = value;
    drawHead();
    highlight();
    show(at);
  }

  box.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    const seg = e.target.closest(".cov");
    if (seg && player && seg.dataset.t) { player.currentTime = Number(seg.dataset.t); return; }
    if (!b) return;
    if (b.classList.contains("dfix")) fixLine(open()[at]);
    else if (b.classList.contains("dnext")) show(at + 1);
    else if (b.classList.contains("dprev")) show(at - 1);
    else if (b.classList.contains("dres")) resolve(panel.dataset.id, b.value).catch((err) => {
      panel.append(el("div", { className: "derr", textContent: err.message }));
    });
  });
  document.addEventListener("keydown", (e) => {
    if (e.metaKey || e.ctrlKey || e.altKey) return;
    if (e.target.closest && e.target.closest("input, textarea, select, [contenteditable]")) return;
    if (e.key === "n") { e.preventDefault(); show(at + 1); }
    else if (e.key === "p") { e.preventDefault(); show(at - 1); }
  });

  async function load() {
    const side = $(".side");
    if (!side) return;
    side.insertBefore(box, $(".toc", side));
    head.textContent = "checking…";
    try {
      const c = await api("GET", "");
      doubts = c.doubts;
      drawStrip(c.coverage, player && Number.isFinite(player.duration) ? player.duration : 0);
      drawHead();
      highlight();
      box.dataset.ready = "1";
    } catch (err) {
      head.textContent = `doubts unavailable: ${err.message}`;
    }
  }
  load();
})();
