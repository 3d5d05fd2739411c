// The chat page: renders the shown branch, streams answers over the WebSocket, stop/regenerate.
"use strict";

(() => {
  const state = JSON.parse(document.getElementById("initial-state").textContent);
  const renderMarkdown = ChatMarkdown.render;

  // New-session form (present on every chat page).
  const newForm = document.getElementById("new-session");
  newForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const [key, value] of new FormData(newForm)) {
      if (value === "") continue;
      body[key] = key === "temperature" ? Number(value) : value;
    }
    try {
      const session = await ML.api("POST", "/api/v1/chat/sessions", body);
      window.location.href = `/chat/${session.id}`;
    } catch (error) {
      alert(error.message);
    }
  });

  ChatHistory.searchable(
    document.getElementById("chat-search"),
    document.getElementById("session-list"),
    state.session && state.session.id,
  );

  if (!state.session) return;
  const session = state.session;
  const list = document.getElementById("messages");
  const hint = document.getElementById("empty-hint");
  const statusLine = document.getElementById("status-line");
  const composer = document.getElementById("composer");
  const promptBox = document.getElementById("prompt");
  const sendButton = document.getElementById("send");
  const stopButton = document.getElementById("stop");
  const regenButton = document.getElementById("regenerate");

  function addMessage(role, text, meta = {}) {
    hint.hidden = true;
    const item = document.createElement("article");
    item.className = `message ${role}`;
    const head = document.createElement("header");
    head.className = "who";
    head.textContent = role === "user" ? "You" : "Assistant";
    const body = document.createElement("div");
    body.className = "body";
    item.append(head, body);
    if (role === "user") {
      body.textContent = text; // user text is shown verbatim, never as HTML
    } else {
      renderMarkdown(body, text);
    }
    setMeta(item, meta);
    list.append(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function setMeta(item, meta) {
    const head = item.querySelector(".who");
    head.querySelectorAll(".tag").forEach((tag) => tag.remove());
    const tags = [];
    if (meta.fallback) tags.push(["fallback", "Fallback: Markov chain, not the AI model"]);
    if (meta.status === "stopped") tags.push(["stopped", "Stopped"]);
    for (const [cls, text] of tags) {
      const tag = document.createElement("span");
      tag.className = `tag ${cls}`;
      tag.textContent = text;
      head.append(tag);
    }
  }

  const titleHeading = document.getElementById("session-title");

  function showTitle(title) {
    titleHeading.textContent = title;
    document.title = document.title.replace(/^.*?( · |$)/, `${title}$1`);
    const link = document.querySelector("#session-list a.active");
    if (link) link.textContent = title;
    document.getElementById("session-settings").title.value = title;
  }

  // Stored messages carry Copy, Edit (prompts) and the version switcher.
  const historyActions = {
    show: async (messageId) => {
      if (streaming) return;
      try {
        const detail = await ML.api("POST", `/api/v1/chat/sessions/${session.id}/show`, { message_id: messageId });
        renderConversation(detail.messages);
      } catch (error) {
        showError(error.message);
      }
    },
    edit: (message, item) =>
      ChatHistory.openEditor(item, message, (text) => {
        if (streaming) return;
        let node = item;
        while (node) {
          const next = node.nextElementSibling;
          if (node.classList.contains("message")) node.remove();
          node = next;
        }
        addMessage("user", text);
        setBusy(true);
        send({ type: "edit", message_id: message.id, prompt: text });
      }),
  };

  function renderConversation(messages) {
    list.querySelectorAll(".message").forEach((item) => item.remove());
    hint.hidden = messages.length > 0;
    for (const m of messages) {
      const item = addMessage(m.role, m.content, { fallback: m.is_fallback, status: m.status });
      item.dataset.messageId = m.id;
      ChatHistory.decorate(item, m, historyActions);
    }
  }

  // After an answer: show what was stored (ids, versions) and the title the chat now has.
  async function refresh() {
    try {
      const detail = await ML.api("GET", `/api/v1/chat/sessions/${session.id}`);
      if (streaming) return;
      renderConversation(detail.messages);
      if (detail.title !== titleHeading.textContent) showTitle(detail.title);
    } catch (error) {
      showError(error.message);
    }
  }

  renderConversation(state.messages);
  ChatHistory.renamable(titleHeading, session.id, showTitle);

  let socket = null;
  let streaming = null; // {item, text, pending}
  let queued = null;

  function setBusy(busy) {
    sendButton.hidden = busy;
    stopButton.hidden = !busy;
    regenButton.disabled = busy;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/api/v1/chat/sessions/${session.id}/ws`);
    socket.addEventListener("open", () => {
      if (queued) {
        socket.send(JSON.stringify(queued));
        queued = null;
      }
    });
    socket.addEventListener("message", (event) => onFrame(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      socket = null;
      if (streaming) finishStreaming();
      setBusy(false);
    });
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
    } else {
      queued = frame;
      if (!socket) connect();
    }
  }

  function scheduleRender() {
    if (!streaming || streaming.pending) return;
    streaming.pending = true;
    requestAnimationFrame(() => {
      if (!streaming) return;
      streaming.pending = false;
      renderMarkdown(streaming.item.querySelector(".body"), streaming.text);
      streaming.item.scrollIntoView({ block: "end" });
    });
  }

  function finishStreaming(meta) {
    if (!streaming) return;
    renderMarkdown(streaming.item.querySelector(".body"), streaming.text);
    streaming.item.classList.remove("streaming");
    if (meta) setMeta(streaming.item, meta);
    if (!streaming.text) streaming.item.remove();
    streaming = null;
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "start": {
        const item = addMessage("assistant", "", { fallback: frame.fallback });
        item.classList.add("streaming");
        const answering = frame.fallback ? "No model available: the Markov fallback is answering." : `${frame.model} is answering…`;
        streaming = { item, text: "", pending: false, answering, waiting: false };
        statusLine.textContent = answering;
        break;
      }
      case "queued": {
        if (!streaming) return;
        // The model is busy with other chats: say where this one stands in line.
        const ahead = frame.position;
        streaming.waiting = true;
        statusLine.textContent = ahead === 0
          ? "The model is busy with other chats: you are next."
          : `The model is busy: ${ahead} ${ahead === 1 ? "chat" : "chats"} ahead of you.`;
        break;
      }
      case "token":
        if (!streaming) return;
        if (streaming.waiting) {
          streaming.waiting = false;
          statusLine.textContent = streaming.answering;
        }
        streaming.text += frame.text;
        scheduleRender();
        break;
      case "done":
        finishStreaming({ fallback: frame.fallback, status: frame.status });
        statusLine.textContent = `${frame.tokens} tokens · ${frame.tokens_per_second} tokens/s${frame.status === "stopped" ? " · stopped" : ""}`;
        setBusy(false);
        refresh();
        break;
      case "error":
        finishStreaming();
        statusLine.textContent = "";
        showError(frame.message);
        setBusy(false);
        refresh();
        break;
    }
  }

  function showError(message) {
    const item = document.createElement("p");
    item.className = "alert";
    item.setAttribute("role", "alert");
    item.textContent = message;
    list.append(item);
    item.scrollIntoView({ block: "end" });
    setTimeout(() => item.remove(), 10000);
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const prompt = promptBox.value.trim();
    if (!prompt || streaming) return;
    addMessage("user", prompt);
    promptBox.value = "";
    setBusy(true);
    send({ type: "prompt", prompt });
  });

  promptBox.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  stopButton.addEventListener("click", () => send({ type: "stop" }));

  regenButton.addEventListener("click", () => {
    const answers = list.querySelectorAll(".message");
    const last = answers[answers.length - 1];
    if (last && last.classList.contains("assistant")) last.remove();
    setBusy(true);
    send({ type: "regenerate" });
  });

  // Session settings, rename, delete.
  const settingsForm = document.getElementById("session-settings");
  document.getElementById("edit-session").addEventListener("click", () => {
    settingsForm.hidden = !settingsForm.hidden;
  });
  settingsForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const updated = await ML.api("PATCH", `/api/v1/chat/sessions/${session.id}`, {
        title: settingsForm.title.value,
        temperature: Number(settingsForm.temperature.value),
        system_prompt: settingsForm.system_prompt.value,
      });
      showTitle(updated.title);
      document.getElementById("model-badge").textContent = `${updated.model_alias} · t=${updated.temperature}`;
      settingsForm.hidden = true;
    } catch (error) {
      showError(error.message);
    }
  });
  document.getElementById("delete-session").addEventListener("click", async () => {
    if (!confirm("Delete this chat and its whole history?")) return;
    try {
      await ML.api("DELETE", `/api/v1/chat/sessions/${session.id}`);
      window.location.href = "/chat";
    } catch (error) {
      showError(error.message);
    }
  });

  connect();
})();

// Ending a chat (with or without a transcript).
(() => {
  const state = JSON.parse(document.getElementById("initial-state").textContent);
  const button = document.getElementById("end-session");
  const form = document.getElementById("end-form");
  if (!state.session || !button) return;
  button.addEventListener("click", () => {
    form.hidden = !form.hidden;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await ML.api("POST", `/api/v1/chat/sessions/${state.session.id}/end`, {
        save_transcript: form.save_transcript.checked,
      });
      window.location.reload();
    } catch (error) {
      alert(error.message);
    }
  });
})();
