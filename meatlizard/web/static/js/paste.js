// Paste editor: live line count, Ctrl+Enter to submit, create through the API.
(function () {
  const form = document.getElementById("paste-form");
  if (!form) return;
  const content = document.getElementById("paste-content");
  const lines = document.getElementById("paste-lines");
  const error = document.getElementById("paste-error");
  const count = () => {
    const n = content.value ? content.value.split("\n").length : 0;
    lines.textContent = n + (n === 1 ? " line" : " lines");
  };
  content.addEventListener("input", count);
  content.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const body = {
      content: content.value,
      title: data.get("title") || "",
      expires_in: data.get("expires_in"),
      visibility: data.get("visibility"),
      burn_after_read: data.get("burn_after_read") === "on",
    };
    if (data.get("language")) body.language = data.get("language");
    if (data.get("password")) body.password = data.get("password");
    try {
      const paste = await ML.api("POST", "/api/v1/pastes", body);
      if (paste.burn_after_read || paste.has_password) {
        error.textContent = "";
        form.outerHTML = '<p>Created: <a id="paste-link" href="' + paste.url + '">' + paste.url +
          '</a> <button type="button" data-copy="#paste-link">Copy</button></p>';
      } else {
        window.location.href = "/p/" + paste.id;
      }
    } catch (err) {
      error.textContent = err.message || String(err);
    }
  });
  count();
})();
