// Files: resumable uploads with tus-js-client (progress, pause/resume, resume after reload)
// with folder, visibility, expiry, password and download-limit options, the folder filter,
// copy-link and delete buttons, the ShareX config download and text previews.
"use strict";

(() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const absolute = (path) => new URL(path, location.origin).href;
  const mib = (bytes) => (bytes / 1048576).toFixed(1) + " MiB";

  document.addEventListener("click", async (event) => {
    const copy = event.target.closest("[data-copy-link]");
    if (copy) ML.copyText(absolute(copy.dataset.copyLink), copy);
    const del = event.target.closest("[data-delete]");
    if (del && confirm("Delete this file?")) {
      try {
        await ML.api("DELETE", `/api/v1/files/${del.dataset.delete}`);
        del.closest("tr").remove();
        refreshListing(); // the storage bar and the empty state follow
      } catch (error) {
        alert(error.message);
      }
    }
  });

  // The folder filter is a plain GET form (?folder=..., bookmarkable); with scripts a choice
  // applies at once. Delegated, because the listing is redrawn after each upload.
  const showFolder = (select) => {
    location.href = select.value ? `/files?folder=${encodeURIComponent(select.value)}` : "/files";
  };
  const hideShowButton = () => {
    const button = document.getElementById("folder-show");
    if (button) button.hidden = true;
  };
  hideShowButton();
  document.addEventListener("change", (event) => {
    if (event.target.id === "folder-select") showFolder(event.target);
  });

  const preview = document.querySelector(".text-preview[data-src]");
  if (preview) {
    fetch(preview.dataset.src, { headers: { Range: "bytes=0-262143" } })
      .then((r) => r.text())
      .then((text) => (preview.textContent = text));
  }

  const sharex = document.getElementById("sharex");
  if (sharex) {
    sharex.addEventListener("click", async () => {
      const response = await fetch("/files/sharex.sxcu", {
        method: "POST", headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin",
      });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = "meatlizard.sxcu";
      link.click();
    });
  }

  const input = document.getElementById("file-input");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("uploads");
  if (!input || !window.tus) return;

  const folder = document.getElementById("upload-folder");
  const visibility = document.getElementById("upload-visibility");
  const expires = document.getElementById("upload-expires");
  const password = document.getElementById("upload-password");
  const maxDownloads = document.getElementById("upload-max-downloads");
  const optionsState = document.getElementById("upload-options-state");

  // What the next uploads get, as tus Upload-Metadata; the server checks every value.
  function uploadOptions() {
    const chosen = {
      folder: folder.value.trim(), visibility: visibility.value, expires_in: expires.value,
    };
    if (password.value) chosen.password = password.value;
    if (maxDownloads.value.trim()) chosen.max_downloads = maxDownloads.value.trim();
    return chosen;
  }

  function describeOptions() {
    const chosen = uploadOptions();
    const expiry = expires.selectedOptions[0].textContent;
    const parts = [
      chosen.folder ? `into ${chosen.folder}/` : "no folder",
      chosen.visibility,
      chosen.expires_in === "never" ? "no expiry" : `expire ${expiry}`,
    ];
    if (chosen.password) parts.push("password");
    if (chosen.max_downloads) parts.push(`at most ${chosen.max_downloads} downloads`);
    optionsState.textContent = "· " + parts.join(" · ");
  }
  for (const field of [folder, visibility, expires, password, maxDownloads]) {
    field.addEventListener("input", describeOptions);
    field.addEventListener("change", describeOptions);
  }
  describeOptions();

  // Redraw "Your files" from the server once an upload finishes (folder filter and all); one
  // redraw at a time, and one more after it when uploads finished meanwhile.
  let redrawing = null;
  let redrawAgain = false;
  function refreshListing() {
    if (redrawing) {
      redrawAgain = true;
      return;
    }
    redrawing = redrawListing().finally(() => {
      redrawing = null;
      if (redrawAgain) {
        redrawAgain = false;
        refreshListing();
      }
    });
  }

  async function redrawListing() {
    const current = document.getElementById("file-listing");
    if (!current) return;
    try {
      const response = await fetch(location.href, { headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("file-listing");
      // Unchanged rows stay as they are: no flicker, and thumbnails are not fetched again.
      if (fresh && fresh.innerHTML !== current.innerHTML) current.replaceChildren(...fresh.childNodes);
      // The storage bar counts what was just uploaded too.
      const usage = page.getElementById("storage-usage");
      if (usage) document.getElementById("storage-usage")?.replaceWith(usage);
      hideShowButton();
    } catch { /* the list stays as it was; a reload shows the file */ }
  }

  // tus-js-client keeps each unfinished upload's metadata in localStorage to resume it; the
  // password must not sit there in clear, and resuming never needs it (it was sent on creation).
  const plainStorage = tus.defaultOptions.urlStorage;
  const urlStorage = {
    findAllUploads: () => plainStorage.findAllUploads(),
    findUploadsByFingerprint: (fingerprint) => plainStorage.findUploadsByFingerprint(fingerprint),
    removeUpload: (key) => plainStorage.removeUpload(key),
    addUpload(fingerprint, upload) {
      const { password: _, ...metadata } = upload.metadata || {};
      return plainStorage.addUpload(fingerprint, { ...upload, metadata });
    },
  };

  function row(file) {
    const item = document.createElement("li");
    item.className = "upload";
    item.innerHTML = `<span class="name"></span><span class="buttons">
      <button type="button" class="small pause">Pause</button>
      <button type="button" class="small copy" hidden>Copy link</button></span>
      <progress max="100" value="0"></progress><span class="state">Starting…</span>`;
    item.querySelector(".name").textContent = file.name;
    list.append(item);
    return item;
  }

  function start(file) {
    const item = row(file);
    const bar = item.querySelector("progress");
    const state = item.querySelector(".state");
    const pause = item.querySelector(".pause");
    let paused = false;
    const upload = new tus.Upload(file, {
      endpoint: "/api/v1/files/tus",
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      chunkSize: Number(input.dataset.chunkSize) || 32 * 1024 * 1024,
      removeFingerprintOnSuccess: true,
      urlStorage,
      headers: { "X-CSRF-Token": csrf() },
      metadata: { filename: file.name, filetype: file.type || "", ...uploadOptions() },
      onProgress(sent, total) {
        bar.value = total ? (sent / total) * 100 : 100;
        state.textContent = `${mib(sent)} of ${mib(total)}`;
      },
      onError(error) {
        item.classList.add("failed");
        const body = error.originalResponse && error.originalResponse.getBody();
        let detail = error.message;
        try { detail = JSON.parse(body).detail || detail; } catch { /* not JSON */ }
        state.textContent = `Failed: ${detail}`;
        pause.textContent = "Retry";
        paused = true;
      },
      onSuccess() {
        bar.value = 100;
        const id = upload.url.split("/").pop();
        const link = absolute(`/f/${id}`);
        state.innerHTML = "";
        const anchor = document.createElement("a");
        anchor.href = link;
        anchor.textContent = link;
        state.append("Done: ", anchor);
        pause.hidden = true;
        const copy = item.querySelector(".copy");
        copy.hidden = false;
        copy.dataset.copyLink = `/f/${id}`;
        item.classList.add("done");
        refreshListing();
      },
    });
    pause.addEventListener("click", () => {
      if (paused) {
        paused = false;
        item.classList.remove("failed");
        pause.textContent = "Pause";
        upload.start();
      } else {
        paused = true;
        pause.textContent = "Resume";
        state.textContent += " (paused)";
        upload.abort();
      }
    });
    // After a reload, the same file picks up where its previous upload stopped.
    upload.findPreviousUploads().then((previous) => {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  }

  input.addEventListener("change", () => {
    [...input.files].forEach(start);
    input.value = "";
  });
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    [...event.dataTransfer.files].forEach(start);
  });
})();
