/* v2a article: links and images with data-t seek the player instead of leaving the page.
   Without JS, or when the player can't play, they stay ordinary links to the timestamp. */
(() => {
  "use strict";
  const media = document.getElementById("v2a-player");
  const ytBox = document.getElementById("v2a-yt");
  let yt = null;
  let ytReady = false;

  if (ytBox) {
    window.onYouTubeIframeAPIReady = () => {
      yt = new window.YT.Player(ytBox, {
        videoId: ytBox.dataset.yt,
        playerVars: { rel: 0, playsinline: 1 },
        events: { onReady: () => { ytReady = true; } },
      });
    };
  }

  const canSeek = () => (media ? !media.error : ytReady);

  function seek(t) {
    if (media) {
      const go = () => {
        media.currentTime = t;
        const p = media.play();
        if (p) p.catch(() => {});  // autoplay refused: the position is still set
      };
      if (media.readyState >= 1) go();
      else media.addEventListener("loadedmetadata", go, { once: true });
    } else {
      yt.seekTo(t, true);
      yt.playVideo();
    }
  }

  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest && e.target.closest("a[data-t]");
    // a prose paragraph plays where it was said (unless a link in it was clicked, or text is
    // being selected)
    const p = !a && e.target.closest && !e.target.closest("a") &&
      !String(window.getSelection ? window.getSelection() : "") && e.target.closest("p[data-start]");
    if ((!a && !p) || !canSeek()) return;
    const t = Number(a ? a.dataset.t : p.dataset.start);
    if (!Number.isFinite(t)) return;
    e.preventDefault();
    seek(t);
  });

  // contents: highlight the chapter being read and the one playing
  const items = [...document.querySelectorAll(".toc li[data-section]")];
  const sections = items.map((li) => document.getElementById(li.dataset.section));

  function markReading() {
    let k = 0;
    sections.forEach((s, i) => { if (s && s.getBoundingClientRect().top < window.innerHeight * 0.3) k = i; });
    items.forEach((li, i) => li.classList.toggle("reading", i === k));
  }
  function markPlaying(t) {
    items.forEach((li) => li.classList.toggle(
      "playing", t >= Number(li.dataset.start) && t < Number(li.dataset.end)));
  }
  let queued = false;
  window.addEventListener("scroll", () => {
    if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; markReading(); }); }
  }, { passive: true });
  markReading();
  if (media) media.addEventListener("timeupdate", () => markPlaying(media.currentTime));
  else if (ytBox) setInterval(() => { if (ytReady) markPlaying(yt.getCurrentTime()); }, 1000);
})();
