/* v2a review: the editor's page. Markup comes from the server (sanitised there); this script
   only inserts server HTML it asked for, and sets every other text with textContent.
   Edits autosave; until the server has them they are also kept in this browser
   (localStorage), so a closed tab or a stopped server loses nothing. */
(() => {
  "use strict";
  const $ = (sel, el = document) => el.querySelector(sel);
  const $$ = (sel, el = document) => [...el.querySelectorAll(sel)];
  const meta = (n) => document.querySelector(`meta[name="${n}"]`).content;
  const API = meta("v2a-api");
  const CSRF = meta("v2a-csrf");
  const data = JSON.parse($("#v2a-state").textContent);
  const VID = data.vid;
  const state = new Map(data.sections.map((s) => [s.key, s]));
  const player = $("#player");
  const note = $("#note");
  const SAVE_MS = 700;
  const editing = new Map(); // key -> editor {timer, saving, conflict, ...}

  // --- talking to the server ---------------------------------------------------------------
  class HttpError extends Error {
    constructor(status, body) { super(body.error || `HTTP ${status}`); this.status = status; this.body = body; }
  }
  async function api(method, path, body) {
    const res = await fetch(API + path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-V2A-CSRF": CSRF },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let out = {};
    try { out = await res.json(); } catch (_) { /* an HTML refusal page */ }
    if (!res.ok) throw new HttpError(res.status, out);
    return out;
  }
  function say(text, kind = "") {
    note.textContent = text;
    note.className = kind;
  }
  function failed(err) { say(err.message || String(err), "error"); }

  // --- the player -----------------------------------------------------------------------------
  function seek(t) {
    if (!player || !Number.isFinite(t)) return;
    const go = () => {
      player.currentTime = t;
      const p = player.play();
      if (p) p.catch(() => {});
    };
    if (player.readyState >= 1) go(); else player.addEventListener("loadedmetadata", go, { once: true });
  }
  function sectionAt(t) {
    for (const s of state.values()) if (t >= s.start && t < s.end) return s.key;
    return null;
  }
  let playing = null;
  if (player) {
    player.addEventListener("timeupdate", () => {
      const key = sectionAt(player.currentTime);
      if (key === playing) return;
      playing = key;
      $$("section.sec.playing, .toc li.playing").forEach((el) => el.classList.remove("playing"));
      if (!key) return;
      const sec = document.getElementById("s-" + key);
      sec.classList.add("playing");
      $(`.toc li[data-key="${CSS.escape(key)}"]`).classList.add("playing");
      if ($("#follow").checked && editing.size === 0 && !player.paused) {
        sec.scrollIntoView({ block: "start", behavior: "smooth" });
      }
    });
  }

  /* A paragraph's time: the section's start plus its share of the prose before it (the prose
     follows the transcript in order). */
  function proseTime(el, sec) {
    const s = state.get(sec.dataset.key);
    const blocks = $$(".body .prose > *", sec);
    const total = blocks.reduce((n, b) => n + b.textContent.length, 0) || 1;
    let before = 0;
    for (const b of blocks) {
      if (b === el || b.contains(el)) break;
      before += b.textContent.length;
    }
    return s.start + (before / total) * (s.end - s.start);
  }

  document.addEventListener("click", (e) => {
    const t = e.target;
    if (t.closest("button, input, select, textarea, label, .panel, summary")) return;
    const timed = t.closest("[data-t]");
    const sec = t.closest("section.sec");
    if (timed) {
      if (!timed.matches("a[href^='#s-']")) e.preventDefault(); // contents links also scroll
      seek(Number(timed.dataset.t));
    } else if (sec && t.closest(".body .prose")) {
      // a paragraph knows its source sentence (data-start); other blocks: by their position
      const sourced = t.closest(".body .prose p[data-start]");
      const block = t.closest(".body .prose > *");
      if (sourced) seek(Number(sourced.dataset.start));
      else if (block) seek(proseTime(block, sec));
    }
  });

  // --- sections ---------------------------------------------------------------------------------
  function replaceSection(key, reply) {
    editing.delete(key); // callers saved any open edit first
    const old = document.getElementById("s-" + key);
    const tpl = document.createElement("template");
    tpl.innerHTML = reply.html; // rendered and sanitised by the server
    const sec = tpl.content.firstElementChild;
    if (old.classList.contains("playing")) sec.classList.add("playing");
    const wasOpen = $("details.transcript", old).open;
    $("details.transcript", sec).open = wasOpen;
    old.replaceWith(sec);
    state.set(key, reply.section);
    const li = $(`.toc li[data-key="${CSS.escape(key)}"]`);
    $(".t", li).textContent = reply.section.title;
    const pill = $(".pill", li);
    pill.textContent = reply.section.status;
    pill.className = "pill " + reply.section.status;
    counts();
    return sec;
  }
  async function refresh(key) {
    replaceSection(key, await api("GET", `/sections/${key}`));
  }
  function counts() {
    const all = [...state.values()];
    const ok = all.filter((s) => s.status === "approved").length;
    $("#count").textContent = `${ok}/${all.length} approved`;
  }
  const rev = (key) => state.get(key).rev;

  async function act(key, action, body = {}) {
    await flush(key);
    const reply = await api("POST", `/sections/${key}/${action}`, { rev: rev(key), ...body });
    return replaceSection(key, reply);
  }

  document.addEventListener("change", async (e) => {
    const t = e.target;
    const sec = t.closest("section.sec");
    if (!sec) return;
    const key = sec.dataset.key;
    try {
      if (t.matches("select.status")) {
        await act(key, "status", { status: t.value });
        say(`section ${state.get(key).number}: ${t.value}`);
      } else if (t.matches("input[data-act=resolve]")) {
        await act(key, "resolve", { id: t.closest("li").dataset.cid, done: t.checked });
      }
    } catch (err) { failed(err); if (err.status === 409) refresh(key); }
  });

  document.addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-act]");
    if (!b) return;
    const sec = b.closest("section.sec");
    if (!sec) return;
    const key = sec.dataset.key;
    const a = b.dataset.act;
    try {
      if (a === "edit") openEditor(sec);
      else if (a === "images") openImages(sec);
      else if (a === "regenerate") openRegenerate(sec);
      else if (a === "history") await openHistory(sec);
      else if (a === "comment") openComment(sec);
      else if (a === "merge") await merge(sec);
      else if (a === "fix") openFix(b.closest("li"), sec);
      else if (a === "split") openSplit(b.closest("li"), sec);
      else if (a === "accept") { await act(key, "accept", { id: b.dataset.id }); say("accepted"); }
      else if (a === "discard") { await act(key, "discard", { id: b.dataset.id }); say("discarded"); }
      else if (["keep-edit", "take-generated", "dismiss-stale"].includes(a)) await act(key, a);
    } catch (err) { failed(err); if (err.status === 409) refresh(key); }
  });

  function panel(sec, cls) {
    const p = $(".panel", sec);
    p.replaceChildren();
    p.className = "panel " + cls;
    p.hidden = false;
    return p;
  }
  function closePanel(sec) {
    const p = $(".panel", sec);
    p.hidden = true;
    p.replaceChildren();
  }
  function el(tag, props = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k in e && typeof v !== "string") e[k] = v;
      else e.setAttribute(k, v);
    }
    e.append(...kids);
    return e;
  }

  // --- editing: autosave, kept in the browser until the server has it ---------------------------
  const pendingKey = (key) => `v2a:${location.host}:${VID}:${key}`;
  function keep(key, ed) {
    localStorage.setItem(pendingKey(key), JSON.stringify(
      { rev: ed.base, title: ed.title.value, markdown: ed.text.value, at: Date.now() }));
  }
  function kept(key) {
    try { return JSON.parse(localStorage.getItem(pendingKey(key)) || "null"); } catch (_) { return null; }
  }

  function openEditor(sec, restored) {
    const key = sec.dataset.key;
    if (editing.has(key)) return;
    const s = state.get(key);
    const p = panel(sec, "editor");
    const ed = {
      base: restored ? restored.rev : s.rev,
      title: el("input", { class: "title-in", type: "text", value: restored ? restored.title : s.title, "aria-label": "Title" }),
      text: el("textarea", { class: "md", rows: 14, spellcheck: true, "aria-label": "Text (Markdown)" }),
      preview: el("div", { class: "prose preview" }),
      mark: el("span", { class: "saved", text: "" }),
      timer: 0, saving: null, dirty: false, conflict: null,
      id: Math.random().toString(36).slice(2, 12), // this editor's autosaves are one version
    };
    ed.text.value = restored ? restored.markdown : s.markdown;
    editing.set(key, ed);
    const changed = () => {
      ed.dirty = true;
      keep(key, ed);
      ed.mark.textContent = "editing…";
      clearTimeout(ed.timer);
      ed.timer = setTimeout(() => save(key), SAVE_MS);
      schedulePreview(ed);
    };
    ed.title.addEventListener("input", changed);
    ed.text.addEventListener("input", changed);
    const conflictBox = el("div", { class: "conflict", hidden: true });
    ed.conflictBox = conflictBox;
    p.append(
      el("label", { text: "Title" }), ed.title,
      el("div", { class: "cols" },
        el("div", {}, el("label", { text: "Text (Markdown)" }), ed.text),
        el("div", {}, el("label", { text: "Preview" }), ed.preview)),
      conflictBox,
      el("div", { class: "row" },
        el("button", { class: "primary", text: "Done", onclick: () => closeEditor(key) }),
        el("button", { text: "Back to the generated text", onclick: () => revert(key) }),
        ed.mark));
    schedulePreview(ed, 0);
    if (restored) { changed(); say(`section ${s.number}: your unsaved edit was restored`); }
    ed.text.focus();
  }

  function schedulePreview(ed, ms = 300) {
    clearTimeout(ed.pt);
    ed.pt = setTimeout(async () => {
      try {
        const r = await api("POST", "/preview", { markdown: ed.text.value });
        ed.preview.innerHTML = r.html; // sanitised by the server (markdown, then nh3)
      } catch (err) { failed(err); }
    }, ms);
  }

  async function save(key, overwrite = false) {
    const ed = editing.get(key);
    if (!ed || !ed.dirty || ed.conflict) return;
    if (ed.saving) { await ed.saving; return save(key, overwrite); }
    clearTimeout(ed.timer);
    ed.timer = 0;
    ed.dirty = false;
    ed.mark.textContent = "saving…";
    const body = { rev: overwrite ? rev(key) : ed.base, title: ed.title.value,
                   markdown: ed.text.value, editor: ed.id };
    ed.saving = (async () => {
      try {
        const reply = await api("PUT", `/sections/${key}`, body);
        state.set(key, reply.section);
        ed.base = reply.section.rev;
        ed.lastReply = reply;
        if (!ed.dirty) localStorage.removeItem(pendingKey(key));
        else keep(key, ed);
        ed.mark.textContent = "saved";
        say("");
      } catch (err) {
        ed.dirty = true;
        if (err.status === 409) showConflict(key, ed);
        else {
          ed.mark.textContent = "not saved — kept in this browser; retrying";
          say(`section ${state.get(key).number} not saved yet: ${err.message}`, "error");
          ed.timer = setTimeout(() => save(key), 3000);
        }
      } finally { ed.saving = null; }
    })();
    return ed.saving;
  }

  async function showConflict(key, ed) {
    ed.conflict = true;
    ed.mark.textContent = "conflict";
    const theirs = await api("GET", `/sections/${key}`).catch(() => null);
    const box = ed.conflictBox;
    box.hidden = false;
    box.replaceChildren(
      el("p", {}, el("strong", { text: "This section was changed in another window. " }),
        "Your text is still here (and kept in this browser). Keep which?"),
      theirs ? el("pre", { class: "theirs", text: theirs.section.markdown }) : "",
      el("button", { class: "primary", text: "Keep mine (save over theirs)", onclick: async () => {
        if (theirs) state.set(key, theirs.section);
        ed.conflict = null; ed.dirty = true; box.hidden = true;
        await save(key, true);
      } }),
      el("button", { text: "Take theirs", onclick: () => {
        ed.conflict = null; ed.dirty = false; box.hidden = true;
        localStorage.removeItem(pendingKey(key));
        if (theirs) replaceSection(key, theirs); else refresh(key);
      } }));
    say(`section ${state.get(key).number}: changed in another window`, "error");
  }

  async function flush(key) {
    const ed = editing.get(key);
    if (!ed) return;
    await save(key);
    if (ed.conflict || ed.dirty) throw new Error(`section ${state.get(key).number}: save or resolve the edit first`);
  }

  async function closeEditor(key) {
    const ed = editing.get(key);
    if (!ed) return;
    await save(key);
    if (ed.conflict || ed.dirty) return;
    await refresh(key);
  }

  async function revert(key) {
    const ed = editing.get(key);
    if (!ed) return;
    await save(key);
    if (ed.conflict) return;
    try {
      const reply = await api("PUT", `/sections/${key}`, { rev: rev(key), title: null, markdown: null });
      localStorage.removeItem(pendingKey(key));
      replaceSection(key, reply);
    } catch (err) { failed(err); }
  }

  // --- images -----------------------------------------------------------------------------------
  function openImages(sec) {
    const key = sec.dataset.key;
    const s = state.get(key);
    const p = panel(sec, "images");
    if (!s.candidates.length) { p.append(el("p", { text: "No keyframes lie in this section's time range." })); return; }
    const chosen = new Set(s.chosen);
    const grid = el("div", { class: "grid" });
    for (const c of s.candidates) {
      const box = el("input", { type: "checkbox", checked: chosen.has(c.scene), value: String(c.scene) });
      grid.append(el("label", { class: "thumb" }, el("img", { src: c.src, alt: `Keyframe at ${c.time}`, loading: "lazy" }),
        el("span", {}, box, " " + c.time)));
    }
    p.append(el("p", { text: "Choose the images of this section (keyframes of its time range):" }), grid,
      el("div", { class: "row" },
        el("button", { class: "primary", text: "Save images", onclick: async () => {
          const images = $$("input:checked", grid).map((i) => Number(i.value));
          try { replaceSection(key, await api("PUT", `/sections/${key}`, { rev: rev(key), images })); say("images saved"); }
          catch (err) { failed(err); }
        } }),
        el("button", { text: "Automatic", onclick: async () => {
          try { replaceSection(key, await api("PUT", `/sections/${key}`, { rev: rev(key), images: null })); }
          catch (err) { failed(err); }
        } }),
        el("button", { text: "Cancel", onclick: () => closePanel(sec) })));
  }

  // --- regenerate ------------------------------------------------------------------------------
  function openRegenerate(sec) {
    const key = sec.dataset.key;
    const p = panel(sec, "regen");
    const ins = el("input", { type: "text", class: "instruction", placeholder: "optional: shorter, keep the code exact, …", "aria-label": "Instruction" });
    const go = el("button", { class: "primary", text: "Write a new version" });
    const wait = el("span", { class: "saved" });
    go.addEventListener("click", async () => {
      go.disabled = true;
      wait.textContent = "the model is writing this section…";
      say(`section ${state.get(key).number}: asking the model for a new version…`);
      try {
        await flush(key);
        const reply = await api("POST", `/sections/${key}/regenerate`, { instruction: ins.value });
        replaceSection(key, reply);
        say(`section ${state.get(key).number}: a new version to accept or discard`);
      } catch (err) { failed(err); go.disabled = false; wait.textContent = ""; }
    });
    ins.addEventListener("keydown", (e) => { if (e.key === "Enter") go.click(); });
    p.append(el("label", { text: "Regenerate this section from its transcript" }), ins,
      el("div", { class: "row" }, go, el("button", { text: "Cancel", onclick: () => closePanel(sec) }), wait));
    ins.focus();
  }

  // --- history ----------------------------------------------------------------------------------
  async function openHistory(sec) {
    const key = sec.dataset.key;
    const r = await api("GET", `/sections/${key}/history`);
    const p = panel(sec, "history");
    if (!r.versions.length) { p.append(el("p", { text: "No changes yet: this is the generated text." })); return; }
    const list = el("ol", { class: "versions", reversed: true });
    for (const v of r.versions) {
      const text = el("pre", { hidden: true, text: `${v.title}\n\n${v.markdown}` });
      list.append(el("li", {},
        el("strong", { text: `v${v.n} ${v.kind}` }), ` ${v.at.replace("T", " ")} `,
        v.note ? el("em", { text: v.note }) : "",
        " ", el("button", { text: "Show", onclick: () => { text.hidden = !text.hidden; } }),
        " ", el("button", { text: "Restore", onclick: async () => {
          try { await act(key, "restore", { n: v.n }); say(`restored version ${v.n}`); }
          catch (err) { failed(err); }
        } }), text));
    }
    p.append(list, el("button", { text: "Close", onclick: () => closePanel(sec) }));
  }

  // --- comments ---------------------------------------------------------------------------------
  function openComment(sec) {
    const key = sec.dataset.key;
    const s = state.get(key);
    const t = player && player.currentTime >= s.start && player.currentTime < s.end ? player.currentTime : s.start;
    const p = panel(sec, "comment");
    const txt = el("textarea", { rows: 2, "aria-label": "Comment" });
    p.append(el("label", { text: `Comment at ${fmt(t)}` }), txt, el("div", { class: "row" },
      el("button", { class: "primary", text: "Add comment", onclick: async () => {
        try { await act(key, "comment", { time: t, text: txt.value }); } catch (err) { failed(err); }
      } }),
      el("button", { text: "Cancel", onclick: () => closePanel(sec) })));
    txt.focus();
  }
  function fmt(t) {
    t = Math.max(0, Math.floor(t));
    const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  // --- chapter cuts -----------------------------------------------------------------------------
  async function merge(sec) {
    const key = sec.dataset.key;
    const s = state.get(key);
    if (!confirm(`Merge section ${s.number} with section ${s.number + 1}? The merged section is rewritten by the model (its earlier versions stay in its history).`)) return;
    await flush(key);
    say("the model is writing the merged section…");
    await api("POST", `/sections/${key}/merge`, { rev: rev(key) });
    location.reload();
  }
  function openSplit(li, sec) {
    const key = sec.dataset.key;
    const words = $(".txt", li).textContent.trim().split(/\s+/).slice(0, 6).join(" ");
    const p = panel(sec, "split");
    const title = el("input", { type: "text", value: words, "aria-label": "Title of the new section" });
    const go = el("button", { class: "primary", text: "Split here" });
    go.addEventListener("click", async () => {
      go.disabled = true;
      say("the model is writing both halves…");
      try {
        await flush(key);
        await api("POST", `/sections/${key}/split`, { rev: rev(key), segment: Number(li.dataset.seg), title: title.value });
        location.reload();
      } catch (err) { failed(err); go.disabled = false; }
    });
    p.append(el("label", { text: `New section from ${$(".ts", li).textContent}: its title` }), title,
      el("div", { class: "row" }, go, el("button", { text: "Cancel", onclick: () => closePanel(sec) })));
    title.focus();
  }

  // --- transcript fixes ---------------------------------------------------------------------------
  function openFix(li, sec) {
    if ($("input.fix-in", li)) return;
    const span = $(".txt", li);
    const input = el("input", { type: "text", class: "fix-in", value: span.textContent.trim(), "aria-label": "Corrected line" });
    const ok = el("button", { class: "primary", text: "Save line" });
    const cancel = el("button", { text: "Cancel" });
    const box = el("span", { class: "fixing" }, input, ok, cancel);
    span.hidden = true;
    li.append(box);
    cancel.addEventListener("click", () => { box.remove(); span.hidden = false; });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") ok.click(); if (e.key === "Escape") cancel.click(); });
    ok.addEventListener("click", async () => {
      try {
        const r = await api("POST", `/transcript/${li.dataset.seg}`, { text: input.value });
        await refresh(sec.dataset.key);
        const again = document.getElementById("s-" + sec.dataset.key);
        if (r.changes.length) offerEverywhere(again, r.changes);
        say("transcript line fixed");
      } catch (err) { failed(err); }
    });
    input.focus();
  }
  function offerEverywhere(sec, changes) {
    const p = panel(sec, "everywhere");
    for (const c of changes) {
      const remember = el("input", { type: "checkbox", checked: true });
      const row = el("div", { class: "change" },
        el("p", {}, "You changed “", el("strong", { text: c.find }), "” to “", el("strong", { text: c.replace }),
          `”. It occurs in ${c.elsewhere} more line${c.elsewhere === 1 ? "" : "s"}.`),
        el("label", {}, remember, " remember it in the glossary (for this video's and the next videos' transcripts)"));
      const apply = el("button", { class: "primary", text: c.elsewhere ? `Replace everywhere (${c.elsewhere})` : "Remember" });
      apply.addEventListener("click", async () => {
        try {
          const r = await api("POST", "/transcript/replace", { find: c.find, replace: c.replace, remember: remember.checked });
          for (const k of r.stale) await refresh(k);
          say(`replaced in ${r.lines} lines; ${r.stale.length} sections marked stale`);
        } catch (err) { failed(err); }
      });
      row.append(el("div", { class: "row" }, apply, el("button", { text: "Only here", onclick: () => row.remove() })));
      p.append(row);
    }
  }

  // --- publish --------------------------------------------------------------------------------
  $("#publish").addEventListener("click", async () => {
    try {
      for (const key of editing.keys()) await flush(key);
      const r = await api("POST", "/publish", { force: $("#force").checked });
      say(`published: ${r.files.map((f) => f.split("/").pop()).join(", ")}`, "ok");
    } catch (err) { failed(err); }
  });

  // --- leaving and coming back: nothing typed is lost -------------------------------------------
  window.addEventListener("beforeunload", (e) => {
    for (const ed of editing.values()) {
      if (ed.dirty || ed.saving || ed.conflict) { e.preventDefault(); e.returnValue = ""; return; }
    }
  });
  for (const [key, s] of state) {
    const mine = kept(key);
    if (!mine) continue;
    const sec = document.getElementById("s-" + key);
    if (mine.title === s.title && mine.markdown === s.markdown) { localStorage.removeItem(pendingKey(key)); continue; }
    openEditor(sec, mine); // saved against its revision: a newer one elsewhere is a conflict
  }
  window.__v2aReady = performance.now();
  document.documentElement.dataset.ready = "1";
})();
