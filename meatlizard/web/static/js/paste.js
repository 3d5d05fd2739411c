// Paste editor: live line count, Ctrl+Enter to submit, optional in-browser encryption,
// clone-and-edit drafts, create through the API.
(function () {
  const form = document.getElementById("paste-form");
  if (!form) return;
  const content = document.getElementById("paste-content");
  const lines = document.getElementById("paste-lines");
  const error = document.getElementById("paste-error");
  const zk = document.getElementById("paste-zk");
  const count = () => {
    const n = content.value ? content.value.split("\n").length : 0;
    lines.textContent = n + (n === 1 ? " line" : " lines");
  };
  const escape = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  content.addEventListener("input", count);
  content.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  zk.addEventListener("change", () => (document.getElementById("paste-zk-note").hidden = !zk.checked));

  function loadDraft() {
    if (!new URLSearchParams(location.search).has("clone")) return;
    const draft = JSON.parse(sessionStorage.getItem("ml-paste-clone") || "null");
    sessionStorage.removeItem("ml-paste-clone");
    if (!draft) return;
    content.value = draft.content;
    form.elements.title.value = draft.title || "";
    const language = form.elements.language;
    if (draft.language && ![...language.options].some((o) => o.value === draft.language)) {
      language.add(new Option(draft.language, draft.language));
    }
    language.value = draft.language === "text" ? "text" : draft.language || "";
    zk.checked = Boolean(draft.encrypted);
    zk.dispatchEvent(new Event("change"));
  }

  function showCreated(url, token, burns) {
    let html = '<p>Created: <a id="paste-link" href="' + escape(url) + '">' + escape(url) +
      '</a> <button type="button" data-copy="#paste-link">Copy link</button></p>';
    if (burns) {
      html += '<p class="notice warn" id="paste-burn-warning" role="status"><strong>Burn after reading:</strong> ' +
        "opening this link shows the paste once and then deletes it, for you too. " +
        "Copy the link and send it on without opening it.</p>";
    }
    if (token) {
      html += '<p class="paste-secret">Delete token (shown once; this browser also keeps it): ' +
        '<code id="paste-token">' + escape(token) + '</code> ' +
        '<button type="button" data-copy="#paste-token">Copy token</button></p>';
    }
    html += '<p><a class="button ghost" id="paste-new" href="/paste">New paste</a></p>';
    form.outerHTML = html;
  }

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
    let key = null;
    try {
      if (zk.checked) {
        if (!PasteCrypto.available()) throw new Error("Encryption needs a secure (HTTPS) page.");
        const sealed = await PasteCrypto.encrypt(content.value);
        body.content = sealed.content;
        body.encrypted = true;
        key = sealed.key;
      }
      const paste = await ML.api("POST", "/api/v1/pastes", body);
      if (paste.delete_token) localStorage.setItem("ml-paste-token:" + paste.id, paste.delete_token);
      const url = paste.url + (key ? "#key=" + key : "");
      error.textContent = "";
      if (paste.burn_after_read || paste.has_password) {
        showCreated(url, paste.delete_token, paste.burn_after_read);
      } else {
        window.location.href = "/p/" + paste.id + (key ? "#key=" + key : "");
      }
    } catch (err) {
      error.textContent = err.message || String(err);
    }
  });
  loadDraft();
  count();
})();
