// Chat history tools: per-message Copy, Edit and a "< 2/3 >" version switcher, renaming the
// chat in place, and searching one's chats from the sidebar.
"use strict";

const ChatHistory = (() => {
  function button(text, label, onClick) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "small ghost";
    element.textContent = text;
    if (label) element.setAttribute("aria-label", label);
    element.addEventListener("click", onClick);
    return element;
  }

  // The actions row under a stored message; `actions` = {show(id), edit(message, item)}.
  function decorate(item, message, actions) {
    const bar = document.createElement("div");
    bar.className = "message-actions";
    const versions = message.versions || [];
    if (versions.length > 1) {
      const index = versions.indexOf(message.id);
      const nav = document.createElement("span");
      nav.className = "versions";
      nav.setAttribute("role", "group");
      nav.setAttribute("aria-label", "Versions");
      const previous = button("‹", "Previous version", () => actions.show(versions[index - 1]));
      const next = button("›", "Next version", () => actions.show(versions[index + 1]));
      previous.classList.add("version-prev");
      next.classList.add("version-next");
      previous.disabled = index <= 0;
      next.disabled = index >= versions.length - 1;
      const count = document.createElement("span");
      count.className = "version-count";
      count.textContent = `${index + 1}/${versions.length}`;
      count.setAttribute("aria-label", `version ${index + 1} of ${versions.length}`);
      nav.append(previous, count, next);
      bar.append(nav);
    }
    const copy = button("Copy", `Copy this ${message.role === "user" ? "prompt" : "answer"}`, () =>
      ML.copyText(message.content, copy),
    );
    copy.classList.add("copy-message");
    bar.append(copy);
    if (message.role === "user" && actions.edit) {
      const edit = button("Edit", "Edit this prompt and send it again", () => actions.edit(message, item));
      edit.classList.add("edit-message");
      bar.append(edit);
    }
    item.append(bar);
  }

  // Replace a prompt's text by an editor; `send(text)` resends it as a new branch.
  function openEditor(item, message, send) {
    if (item.querySelector(".edit-form")) return;
    const body = item.querySelector(".body");
    const form = document.createElement("form");
    form.className = "edit-form form compact";
    const area = document.createElement("textarea");
    area.value = message.content;
    area.rows = 3;
    area.setAttribute("aria-label", "Edited prompt");
    const save = document.createElement("button");
    save.type = "submit";
    save.textContent = "Save & send";
    const cancel = button("Cancel", null, () => {
      form.remove();
      body.hidden = false;
    });
    form.append(area, save, cancel);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = area.value.trim();
      if (text) send(text);
    });
    body.hidden = true;
    body.after(form);
    area.focus();
  }

  // Click (or Enter on) the title to rename the chat.
  function renamable(heading, sessionId, onRenamed) {
    async function start() {
      if (heading.hidden) return;
      const input = document.createElement("input");
      input.id = "rename-title";
      input.maxLength = 200;
      input.value = heading.textContent;
      input.setAttribute("aria-label", "Chat title");
      heading.hidden = true;
      heading.after(input);
      input.focus();
      input.select();
      let done = false;
      async function finish(save) {
        if (done) return;
        done = true;
        const title = input.value.trim();
        if (save && title && title !== heading.textContent) {
          try {
            const updated = await ML.api("PATCH", `/api/v1/chat/sessions/${sessionId}`, { title });
            onRenamed(updated.title);
          } catch (error) {
            alert(error.message);
          }
        }
        input.remove();
        heading.hidden = false;
      }
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") finish(true);
        if (event.key === "Escape") finish(false);
      });
      input.addEventListener("blur", () => finish(true));
    }
    heading.addEventListener("click", start);
    heading.addEventListener("keydown", (event) => {
      if (event.key === "Enter") start();
    });
  }

  // The sidebar's search box filters the chat list by title and content.
  function searchable(box, list, currentId) {
    let timer = null;
    let asked = 0;
    async function search() {
      const ask = ++asked;
      const query = box.value.trim();
      const sessions = await ML.api("GET", `/api/v1/chat/sessions?q=${encodeURIComponent(query)}`);
      if (ask !== asked) return; // a newer search is on its way
      list.replaceChildren();
      for (const s of sessions) {
        const entry = document.createElement("li");
        const link = document.createElement("a");
        link.href = `/chat/${s.id}`;
        link.textContent = s.title;
        if (s.id === currentId) {
          link.className = "active";
          link.setAttribute("aria-current", "page");
        }
        entry.append(link);
        list.append(entry);
      }
      if (!sessions.length) {
        const empty = document.createElement("li");
        empty.className = "empty muted";
        empty.textContent = query ? "No chat matches." : "No chats yet. Start one above.";
        list.append(empty);
      }
    }
    box.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => search().catch((error) => alert(error.message)), 200);
    });
  }

  return { decorate, openEditor, renamable, searchable };
})();
