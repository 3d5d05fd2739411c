// Paste view: linkable lines (#L12, shift-click for #L12-L20), download, clone and edit,
// delete, rendered markdown, and in-browser decryption of zero-knowledge pastes.
"use strict";

(function () {
  const unlock = document.getElementById("paste-unlock");
  if (unlock) {
    // Keep the key (and line) of the fragment across the password form.
    unlock.addEventListener("submit", () => {
      unlock.action = unlock.action.split("#")[0] + location.hash;
    });
    return;
  }
  const view = document.getElementById("paste-view");
  if (!view) return;
  const id = view.dataset.id;
  const source = document.getElementById("paste-source");
  const error = document.getElementById("paste-error");
  const tokenName = "ml-paste-token:" + id;
  const sealed = source.value; // ciphertext, for a zero-knowledge paste
  let text = source.value;
  let usedKey = null;
  let anchor = null; // the line a shift-click extends from

  const fragment = () => PasteCrypto.parseFragment(location.hash);
  const fail = (message) => (error.textContent = message);

  function select(range, scroll) {
    document.querySelectorAll("#paste-code .line.selected").forEach((el) => el.classList.remove("selected"));
    if (!range) return;
    for (let n = range[0]; n <= range[1]; n++) document.getElementById("L" + n)?.classList.add("selected");
    if (scroll) document.getElementById("L" + range[0])?.scrollIntoView({ block: "center" });
  }

  function setLines(range) {
    const parts = fragment();
    parts.lines = range;
    history.replaceState(null, "", location.pathname + location.search + PasteCrypto.buildFragment(parts));
    select(range, false);
  }

  document.addEventListener("click", (event) => {
    const number = event.target.closest("#paste-code .ln");
    if (!number) return;
    event.preventDefault();
    const n = Number(number.dataset.line);
    if (event.shiftKey && anchor !== null) {
      setLines([Math.min(anchor, n), Math.max(anchor, n)]);
    } else {
      anchor = n;
      setLines([n, n]);
    }
  });
  window.addEventListener("hashchange", async () => {
    if (view.dataset.encrypted === "1" && fragment().key !== usedKey && !(await decrypt())) return;
    select(fragment().lines, true);
  });

  function buildLines(plain) {
    const lines = plain.replace(/\r\n/g, "\n").split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
    const code = document.createElement("code");
    lines.forEach((line, i) => {
      const row = document.createElement("span");
      row.className = "line";
      row.id = "L" + (i + 1);
      const number = document.createElement("a");
      number.className = "ln";
      number.href = "#L" + (i + 1);
      number.dataset.line = String(i + 1);
      number.setAttribute("aria-label", "Line " + (i + 1));
      const content = document.createElement("span");
      content.className = "lc";
      content.textContent = line;
      row.append(number, content, "\n");
      code.append(row);
    });
    document.getElementById("paste-code").replaceChildren(code);
  }

  // A zero-knowledge paste is either locked (one message, nothing to copy or download: the
  // page only holds ciphertext) or decrypted (every action works on the plain text).
  const actions = ["paste-copy", "paste-download", "paste-raw", "paste-clone"].map((name) => document.getElementById(name));
  let rawUrl = null;

  function setLocked(message) {
    document.getElementById("paste-crypto-state").textContent = message
      ? "zero-knowledge: locked"
      : "zero-knowledge: decrypted in your browser";
    document.querySelector(".paste-code").hidden = !!message;
    if (message) document.getElementById("paste-code").replaceChildren();
    error.textContent = message || "";
    if (rawUrl) URL.revokeObjectURL(rawUrl);
    rawUrl = message ? null : URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    for (const action of actions) {
      if (action.tagName === "BUTTON") action.disabled = !!message;
      else if (message) action.removeAttribute("href");
      else action.href = action.id === "paste-raw" ? rawUrl : "#";
      if (action.tagName === "A") action.setAttribute("aria-disabled", message ? "true" : "false");
    }
    return !message;
  }

  async function decrypt() {
    const key = fragment().key;
    usedKey = key;
    text = sealed;
    if (!key) return setLocked("This paste is encrypted and the link has no key (#key=…): ask its author for the whole link.");
    if (!PasteCrypto.available()) return setLocked("Decryption needs a secure (HTTPS) page.");
    try {
      text = await PasteCrypto.decrypt(sealed, key);
    } catch {
      text = sealed;
      return setLocked("Could not decrypt: the key in the link is wrong or the paste was changed.");
    }
    source.textContent = text; // the copy button reads the source
    source.value = text;
    buildLines(text);
    return setLocked(null);
  }

  function renderMarkdown() {
    const toggle = document.getElementById("paste-toggle");
    if (!toggle || !window.markdownit || !window.DOMPurify) return;
    const md = window.markdownit({ html: false, linkify: true });
    const rendered = document.getElementById("paste-rendered");
    // markdown-it escapes raw HTML (html: false); DOMPurify is a second line of defence.
    rendered.innerHTML = DOMPurify.sanitize(md.render(text), { USE_PROFILES: { html: true } });
    const code = document.querySelector(".paste-code");
    const show = (on) => {
      rendered.hidden = !on;
      code.hidden = on;
      toggle.textContent = on ? "Show source" : "Show rendered";
    };
    toggle.hidden = false;
    toggle.addEventListener("click", () => show(rendered.hidden));
    show(!fragment().lines); // a line link opens the source
  }

  document.getElementById("paste-download").addEventListener("click", (event) => {
    event.preventDefault(); // from memory: works for burned and decrypted pastes too
    if (event.currentTarget.getAttribute("aria-disabled") === "true") return;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    link.download = view.dataset.filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });

  document.getElementById("paste-clone").addEventListener("click", () => {
    const draft = {
      content: text,
      title: view.dataset.title,
      language: view.dataset.language,
      encrypted: view.dataset.encrypted === "1",
    };
    sessionStorage.setItem("ml-paste-clone", JSON.stringify(draft));
    location.href = "/paste?clone=" + encodeURIComponent(id);
  });

  const remove = document.getElementById("paste-delete");
  const token = localStorage.getItem(tokenName);
  if (token) remove.hidden = false;
  remove.addEventListener("click", async () => {
    if (remove.dataset.armed !== "1") {
      remove.dataset.armed = "1";
      remove.textContent = "Really delete?";
      return;
    }
    const headers = { "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content };
    if (token) headers["X-Delete-Token"] = token;
    const response = await fetch("/api/v1/pastes/" + encodeURIComponent(id), {
      method: "DELETE", headers, credentials: "same-origin",
    });
    if (response.status !== 204 && response.status !== 404) {
      const data = await response.json().catch(() => ({}));
      return fail(data.detail || response.statusText);
    }
    localStorage.removeItem(tokenName);
    view.replaceChildren();
    view.insertAdjacentHTML("beforeend",
      '<h1>Deleted</h1><p id="paste-deleted">This paste is gone.</p><p><a class="button" href="/paste">New paste</a></p>');
  });

  (async () => {
    const parts = fragment();
    if (parts.legacy) history.replaceState(null, "", location.pathname + PasteCrypto.buildFragment(parts));
    if (view.dataset.encrypted === "1" && !(await decrypt())) return;
    renderMarkdown();
    select(parts.lines, true);
    view.dataset.ready = "1";
  })();
})();
