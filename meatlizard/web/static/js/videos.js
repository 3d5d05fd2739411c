// Video uploads: the file goes up with tus (resumable), then POST /api/v1/videos starts the transcode.
"use strict";

(() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const input = document.getElementById("video-input");
  const zone = document.getElementById("video-drop");
  const list = document.getElementById("video-uploads");
  if (!input || !window.tus) return;

  // Title, description and visibility are read when the upload starts, so a second file
  // dropped after editing them gets the new values.
  function details() {
    const body = { visibility: document.getElementById("video-upload-visibility").value };
    const title = document.getElementById("video-upload-title").value.trim();
    const description = document.getElementById("video-upload-description").value.trim();
    if (title) body.title = title;
    if (description) body.description = description;
    return body;
  }

  function start(file) {
    const chosen = details();
    const item = document.createElement("li");
    item.className = "upload";
    item.innerHTML = `<span class="name"></span><span class="state">Starting…</span><progress max="100" value="0"></progress>`;
    item.querySelector(".name").textContent = file.name;
    list.append(item);
    const bar = item.querySelector("progress");
    const state = item.querySelector(".state");
    const upload = new tus.Upload(file, {
      endpoint: "/api/v1/files/tus",
      retryDelays: [0, 1000, 3000, 5000, 10000],
      chunkSize: 32 * 1024 * 1024,
      removeFingerprintOnSuccess: true,
      headers: { "X-CSRF-Token": csrf() },
      metadata: { filename: file.name, filetype: file.type || "" },
      onProgress(sent, total) {
        bar.value = total ? (sent / total) * 100 : 100;
        state.textContent = `Uploading ${bar.value.toFixed(0)}%`;
      },
      onError(error) {
        item.classList.add("failed");
        state.textContent = `Upload failed: ${error.message}`;
      },
      async onSuccess() {
        const fileId = upload.url.split("/").pop();
        try {
          const video = await ML.api("POST", "/api/v1/videos", { file_id: fileId, ...chosen });
          state.textContent = "Uploaded; transcoding…";
          location.href = `/v/${video.id}`;
        } catch (error) {
          item.classList.add("failed");
          state.textContent = `Could not start the video: ${error.message}`;
        }
      },
    });
    upload.findPreviousUploads().then((previous) => {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  }

  input.addEventListener("change", () => [...input.files].forEach(start));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    [...e.dataTransfer.files].forEach(start);
  });
})();
