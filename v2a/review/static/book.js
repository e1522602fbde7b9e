/* v2a review: the book page. Builds or publishes the book; every text it shows is set with
   textContent (the server's replies are never inserted as markup). */
(() => {
  "use strict";
  const $ = (sel) => document.querySelector(sel);
  const CSRF = document.querySelector('meta[name="v2a-csrf"]').content;
  const note = $("#note");
  const say = (text, kind = "") => { note.textContent = text; note.className = kind; };
  const formats = () => [...document.querySelectorAll('input[name="format"]:checked')].map((i) => i.value);

  async function api(path, body) {
    const res = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-V2A-CSRF": CSRF },
      body: JSON.stringify(body),
    });
    let out = {};
    try { out = await res.json(); } catch (_) { /* an HTML refusal page */ }
    if (!res.ok) throw new Error(out.error || `HTTP ${res.status}`);
    return out;
  }

  async function run(button, path, body, doing) {
    const buttons = [$("#build"), $("#publish")].filter(Boolean);
    buttons.forEach((b) => { b.disabled = true; });
    say(doing);
    try {
      const r = await api(path, body);
      const made = r.written.length ? `written: ${r.written.join(", ")}` : "every file was up to date";
      say(`${r.published ? "published" : "built"}: ${r.parts} parts; ${made}`, "ok");
      // the page is redrawn by the server: states, notes and download links of this build
      setTimeout(() => window.location.reload(), 600);
    } catch (err) {
      say(err.message || String(err), "error");
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  const build = $("#build");
  if (build) build.addEventListener("click", () =>
    run(build, "/api/book/build", { formats: formats() }, "building the book …"));
  const publish = $("#publish");
  if (publish) publish.addEventListener("click", () =>
    run(publish, "/api/book/publish", { formats: formats(), force: $("#force").checked },
        "publishing the book …"));
  document.documentElement.dataset.ready = "1";
})();
