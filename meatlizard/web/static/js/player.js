// Video player: hls.js with a quality menu, seek-bar thumbnails from the WebVTT sprite track,
// keyboard shortcuts, remembered position, captions, view counting; live transcode status.
"use strict";

(() => {
  const fmt = (s) => {
    s = Math.max(0, Math.floor(s || 0));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  };

  const status = document.getElementById("transcode");
  if (status) watchTranscode(status);
  const box = document.getElementById("player");
  if (box) setUpPlayer(box);
  setUpOwnerForms();

  function watchTranscode(el) {
    const id = el.dataset.video;
    const bar = document.getElementById("transcode-progress");
    const state = document.getElementById("transcode-state");
    const eta = document.getElementById("transcode-eta");
    const error = document.getElementById("transcode-error");
    const retry = document.getElementById("retry");
    async function poll() {
      let info;
      try { info = await ML.api("GET", `/api/v1/videos/${id}`); } catch { return setTimeout(poll, 3000); }
      if (info.status === "ready") return location.reload();
      bar.value = info.progress;
      state.textContent = info.status === "failed" ? "Transcoding failed." : `Transcoding: ${info.status}… ${info.progress.toFixed(0)}%`;
      eta.textContent = info.eta_seconds != null ? `About ${fmt(info.eta_seconds)} left` : "";
      error.hidden = !info.error;
      error.textContent = info.error || "";
      if (retry) retry.hidden = info.status !== "failed";
      if (info.status !== "failed") setTimeout(poll, 1000);
    }
    if (retry) retry.addEventListener("click", async () => {
      try { await ML.api("POST", `/api/v1/videos/${id}/retry`); retry.hidden = true; poll(); }
      catch (e) { alert(e.message); }
    });
    poll();
  }

  function setUpPlayer(box) {
    const video = document.getElementById("video");
    const seek = document.getElementById("seek");
    const clock = document.getElementById("clock");
    const play = document.getElementById("play");
    const mute = document.getElementById("mute");
    const quality = document.getElementById("quality");
    const preview = document.getElementById("seek-preview");
    const id = box.dataset.video;
    const posKey = `ml-video-pos:${id}`;
    let hls = null;

    if (window.Hls && Hls.isSupported()) {
      hls = new Hls({ xhrSetup: (xhr) => { xhr.withCredentials = true; } });
      hls.loadSource(box.dataset.master);
      hls.attachMedia(video);
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        hls.levels.forEach((level, index) => {
          const option = new Option(`${level.height}p`, String(index));
          quality.append(option);
        });
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
        box.dataset.level = String(data.level);
        box.dataset.levelHeight = String(hls.levels[data.level].height);
      });
      quality.addEventListener("change", () => {
        // -1 lets hls.js pick by bandwidth; a fixed level switches immediately.
        hls.currentLevel = Number(quality.value);
      });
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = box.dataset.master;  // Safari plays HLS natively
      quality.hidden = true;
    }

    const saved = Number(localStorage.getItem(posKey));
    video.addEventListener("loadedmetadata", () => {
      if (saved > 2 && saved < video.duration - 2) video.currentTime = saved;
    }, { once: true });
    let lastSave = 0;
    video.addEventListener("timeupdate", () => {
      seek.value = video.duration ? (video.currentTime / video.duration) * 1000 : 0;
      clock.textContent = `${fmt(video.currentTime)} / ${fmt(video.duration)}`;
      if (Date.now() - lastSave > 1000) {
        lastSave = Date.now();
        localStorage.setItem(posKey, String(video.currentTime));
      }
    });
    video.addEventListener("ended", () => localStorage.removeItem(posKey));
    // Icons are SVG symbols from the player template: system fonts often lack media glyphs.
    const setIcon = (button, name) => button.querySelector("use").setAttribute("href", `#i-${name}`);
    video.addEventListener("play", () => setIcon(play, "pause"));
    video.addEventListener("pause", () => setIcon(play, "play"));
    const volume = document.getElementById("volume");
    const bigPlay = document.getElementById("big-play");
    video.addEventListener("volumechange", () => {
      setIcon(mute, video.muted ? "muted" : "volume");
      volume.value = video.muted ? 0 : video.volume;
    });
    volume.addEventListener("input", () => {
      video.volume = Number(volume.value);
      video.muted = video.volume === 0;
    });
    document.getElementById("speed").addEventListener("change", (event) => {
      video.playbackRate = Number(event.target.value);
    });
    video.addEventListener("durationchange", () => {
      if (video.duration) clock.textContent = `${fmt(video.currentTime)} / ${fmt(video.duration)}`;
    });
    video.addEventListener("play", () => (bigPlay.hidden = true));
    video.addEventListener("pause", () => (bigPlay.hidden = false));
    bigPlay.addEventListener("click", () => video.play());
    video.addEventListener("playing", () => {
      ML.api("POST", `/v/${id}/view`).then((r) => {
        const views = document.getElementById("views");
        if (views && r) views.textContent = r.view_count;
        const word = document.getElementById("views-word");
        if (word && r) word.textContent = r.view_count === 1 ? "view" : "views";
      }).catch(() => {});
    }, { once: true });

    const toggle = () => (video.paused ? video.play() : video.pause());
    const skip = (by) => (video.currentTime = Math.min(Math.max(0, video.currentTime + by), video.duration || 0));
    const fullscreen = () => (document.fullscreenElement ? document.exitFullscreen() : box.requestFullscreen());
    play.addEventListener("click", toggle);
    video.addEventListener("click", toggle);
    mute.addEventListener("click", () => (video.muted = !video.muted));
    document.getElementById("fullscreen").addEventListener("click", fullscreen);
    seek.addEventListener("input", () => (video.currentTime = (seek.value / 1000) * (video.duration || 0)));
    const cc = document.getElementById("cc");
    if (cc) cc.addEventListener("click", () => {
      const track = video.textTracks[0];
      track.mode = track.mode === "showing" ? "hidden" : "showing";
      cc.setAttribute("aria-pressed", String(track.mode === "showing"));
    });

    document.addEventListener("keydown", (event) => {
      if (event.target.closest("input, textarea, select") && event.target !== seek) return;
      const actions = {
        " ": toggle, k: toggle, j: () => skip(-10), l: () => skip(10), f: fullscreen,
        m: () => (video.muted = !video.muted), ArrowLeft: () => skip(-5), ArrowRight: () => skip(5),
        ArrowUp: () => (video.volume = Math.min(1, video.volume + 0.1)),
        ArrowDown: () => (video.volume = Math.max(0, video.volume - 0.1)),
      };
      const action = actions[event.key];
      if (action && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        action();
      }
    });

    loadThumbnails(box.dataset.thumbs).then((cues) => {
      if (!cues.length) return;
      const thumb = preview.querySelector(".thumb");
      const label = preview.querySelector(".time");
      seek.addEventListener("mousemove", (event) => {
        const rect = seek.getBoundingClientRect();
        const at = ((event.clientX - rect.left) / rect.width) * (video.duration || 0);
        const cue = cues.find((c) => at >= c.start && at < c.end) || cues[cues.length - 1];
        Object.assign(thumb.style, {
          width: `${cue.w}px`, height: `${cue.h}px`,
          backgroundImage: `url(${cue.url})`, backgroundPosition: `-${cue.x}px -${cue.y}px`,
        });
        label.textContent = fmt(at);
        preview.style.left = `${event.clientX - box.getBoundingClientRect().left - cue.w / 2}px`;
        preview.hidden = false;
        preview.dataset.cue = `${cue.x},${cue.y}`;
      });
      seek.addEventListener("mouseleave", () => (preview.hidden = true));
    });
  }

  async function loadThumbnails(url) {
    if (!url) return [];
    const text = await (await fetch(url, { credentials: "same-origin" })).text();
    const seconds = (t) => t.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
    const cues = [];
    const blocks = text.split(/\n\n+/);
    for (const block of blocks) {
      const [timing, target] = block.trim().split("\n");
      if (!timing || !timing.includes("-->") || !target) continue;
      const [start, end] = timing.split("-->").map((t) => seconds(t.trim()));
      const [file, hash] = target.split("#xywh=");
      const [x, y, w, h] = hash.split(",").map(Number);
      cues.push({ start, end, url: new URL(file, url).href, x, y, w, h });
    }
    return cues;
  }

  function setUpOwnerForms() {
    const edit = document.getElementById("video-edit");
    if (!edit) return;
    const id = (document.getElementById("player") || document.getElementById("transcode")).dataset.video;
    edit.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(edit));
      try {
        const info = await ML.api("PATCH", `/api/v1/videos/${id}`, data);
        document.getElementById("video-title").textContent = info.title;
        document.getElementById("video-description").textContent = info.description;
      } catch (e) { alert(e.message); }
    });
    document.getElementById("delete-video").addEventListener("click", async () => {
      if (!confirm("Delete this video and all its renditions?")) return;
      await ML.api("DELETE", `/api/v1/videos/${id}`);
      location.href = "/videos?mine=true";
    });
    const captions = document.getElementById("caption-form");
    captions.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new FormData(captions);
      const result = document.getElementById("caption-result");
      const url = `/api/v1/videos/${id}/captions/${encodeURIComponent(form.get("lang"))}?label=${encodeURIComponent(form.get("label"))}`;
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const response = await fetch(url, { method: "PUT", body: form.get("file"), headers: { "X-CSRF-Token": csrf, "Content-Type": "text/vtt" } });
      const body = await response.json().catch(() => ({}));
      result.textContent = response.ok ? `Captions saved (${body.label}). Reload to see them.` : `Refused: ${body.detail}`;
    });
  }
})();
