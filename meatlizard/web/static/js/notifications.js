// Web notifications (e.g. "your transcript is ready" with a download button).
"use strict";

(() => {
  const box = document.getElementById("notifications");
  if (!box) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function show(note) {
    const item = document.createElement("div");
    item.className = "notice notification";
    item.dataset.kind = note.kind;
    const text = document.createElement("span");
    text.textContent = note.message;
    item.append(text);
    if (note.link) {
      const link = document.createElement("a");
      link.className = "button small";
      link.href = note.link;
      link.textContent = note.link_label || "Open";
      item.append(" ", link);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "small ghost";
    close.textContent = "Dismiss";
    close.addEventListener("click", async () => {
      await fetch(`/api/v1/notifications/${note.id}/read`, {
        method: "POST",
        headers: { "X-CSRF-Token": csrf },
        credentials: "same-origin",
      });
      item.remove();
    });
    item.append(" ", close);
    box.append(item);
  }

  fetch("/api/v1/notifications", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : []))
    .then((notes) => notes.forEach(show))
    .catch(() => {});
})();
