"use strict";

const toggle = document.getElementById("requests-toggle");
toggle.addEventListener("click", async () => {
  const enable = toggle.dataset.enabled !== "true";
  try {
    const result = await ML.api("PUT", "/api/v1/admin/requests", { enabled: enable });
    toggle.dataset.enabled = String(result.enabled);
    toggle.textContent = result.enabled ? "Pause requests" : "Accept requests";
    document.getElementById("requests-state").textContent = result.enabled ? "accepted" : "paused";
  } catch (error) {
    alert(error.message);
  }
});

// Sizes read as everywhere else on the site (Jinja's filesizeformat, binary units).
function sizeText(bytes) {
  const units = ["KiB", "MiB", "GiB", "TiB"];
  if (bytes < 1024) return `${bytes} Bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

const backupButton = document.getElementById("backup-now");
backupButton.addEventListener("click", async () => {
  const state = document.getElementById("backup-state");
  backupButton.disabled = true;
  state.textContent = "Backing up…";
  try {
    const info = await ML.api("POST", "/api/v1/admin/backups");
    state.textContent = `Saved ${info.key}`;
    const row = document.createElement("tr");
    const rows = Object.values(info.row_counts).reduce((a, b) => a + b, 0);
    for (const [label, text] of [["", info.key], ["Size", sizeText(info.size)], ["Rows", rows]]) {
      const cell = document.createElement("td");
      if (label) cell.dataset.label = label;  // the phone layout labels each cell
      cell.textContent = text;
      row.append(cell);
    }
    const body = document.querySelector("#backup-table tbody");
    body.querySelector(".empty")?.remove();
    body.prepend(row);
  } catch (error) {
    state.textContent = error.message;
  } finally {
    backupButton.disabled = false;
  }
});

document.getElementById("user-table").addEventListener("click", async (event) => {
  const quota = event.target.closest("[data-quota-edit]");
  if (quota) {
    const row = quota.closest("tr");
    const current = Number(row.querySelector("[data-quota-bytes]").dataset.quotaBytes) / 1048576;
    const answer = prompt(`Storage quota of ${row.dataset.username} in MiB (empty: the default)`, String(current));
    if (answer === null) return;
    const mib = answer.trim() === "" ? null : Number(answer);
    if (mib !== null && !(mib >= 0)) return alert("Enter a number of MiB, 0 or more, or leave it empty.");
    try {
      await ML.api("PUT", `/api/v1/files/quotas/${row.dataset.user}`, { quota_bytes: mib === null ? null : Math.round(mib * 1048576) });
      window.location.reload();
    } catch (error) {
      alert(error.message);
    }
    return;
  }
  const button = event.target.closest("[data-user-change]");
  if (!button) return;
  const id = button.closest("tr").dataset.user;
  try {
    await ML.api("PATCH", `/api/v1/admin/users/${id}`, JSON.parse(button.dataset.userChange));
    window.location.reload();
  } catch (error) {
    alert(error.message);
  }
});

document.getElementById("session-table").addEventListener("click", async (event) => {
  const button = event.target.closest("[data-session-action]");
  if (!button) return;
  const id = button.closest("tr").dataset.session;
  try {
    if (button.dataset.sessionAction === "transfer") {
      const username = prompt("Transfer this chat to which user?");
      if (!username) return;
      await ML.api("POST", `/api/v1/admin/sessions/${id}/transfer`, { username });
    } else {
      if (!confirm("End this chat? Its owner can no longer send prompts in it.")) return;
      await ML.api("POST", `/api/v1/admin/sessions/${id}/end`);
    }
    window.location.reload();
  } catch (error) {
    alert(error.message);
  }
});

document.getElementById("report-table").addEventListener("click", async (event) => {
  const button = event.target.closest("[data-report-action]");
  if (!button) return;
  const id = button.closest("tr").dataset.report;
  const action = button.dataset.reportAction;
  if (action === "takedown" && !confirm("Remove this content for everyone?")) return;
  try {
    await ML.api("POST", `/api/v1/admin/reports/${id}/${action}`);
    window.location.reload();
  } catch (error) {
    alert(error.message);
  }
});

document.getElementById("moderation-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const lines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);
  const state = document.getElementById("moderation-state");
  try {
    await ML.api("PUT", "/api/v1/admin/moderation", { words: lines(form.words.value), patterns: lines(form.patterns.value) });
    state.textContent = "Saved.";
  } catch (error) {
    state.textContent = error.message;
  }
});

// The metrics part redraws itself every data-interval seconds while the page is visible.
const live = document.getElementById("admin-live");
const liveState = document.getElementById("live-state");
const liveButton = document.getElementById("live-refresh");
const liveEvery = Number(live.dataset.interval) * 1000;
let liveTimer = null;
let liveBusy = false;

async function refreshLive() {
  clearTimeout(liveTimer);
  if (liveBusy) return;
  liveBusy = true; // the button stays enabled so keyboard focus stays on it
  live.setAttribute("aria-busy", "true");
  try {
    const response = await fetch("/admin/live", { credentials: "same-origin" });
    if (!response.ok) throw new Error((await response.text()) || `HTTP ${response.status}`);
    live.innerHTML = await response.text();
    const now = new Date().toISOString().slice(11, 19);
    liveState.textContent = `Updated ${now} UTC; this part refreshes every ${liveEvery / 1000} s while the page is open.`;
  } catch (error) {
    liveState.textContent = `Live updates failed (${error.message}); retrying in ${liveEvery / 1000} s.`;
  } finally {
    liveBusy = false;
    live.removeAttribute("aria-busy");
    if (document.visibilityState === "visible") liveTimer = setTimeout(refreshLive, liveEvery);
  }
}

liveButton.addEventListener("click", refreshLive);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refreshLive();
  else clearTimeout(liveTimer);
});
liveTimer = setTimeout(refreshLive, liveEvery);
