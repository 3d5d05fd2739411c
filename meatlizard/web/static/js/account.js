"use strict";

// A new token joins the table at once (newest first), replacing "No tokens yet".
function listToken(token) {
  const rows = document.querySelector("#token-table tbody");
  rows.querySelector("tr.empty")?.remove();
  const row = document.createElement("tr");
  row.dataset.id = token.id;
  row.innerHTML = '<td></td><td data-label="Starts with"><code></code></td><td data-label="Created"></td>' +
    '<td data-label="Last used">never</td><td class="actions"><button type="button" class="small danger">Revoke</button></td>';
  row.cells[0].textContent = token.name;
  row.querySelector("code").textContent = `${token.prefix}…`;
  row.cells[2].textContent = token.created_at.slice(0, 10);
  row.querySelector("button").dataset.revoke = token.id;
  rows.prepend(row);
}

document.getElementById("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  try {
    const created = await ML.api("POST", "/api/v1/auth/tokens", { name: form.name.value });
    document.getElementById("token-value").textContent = created.token;
    document.getElementById("token-created").hidden = false;
    listToken(created);
    form.reset();
  } catch (error) {
    alert(error.message);
  }
});

document.getElementById("token-table").addEventListener("click", async (event) => {
  const button = event.target.closest("[data-revoke]");
  if (!button || !confirm("Revoke this token? Scripts using it will stop working.")) return;
  try {
    await ML.api("DELETE", `/api/v1/auth/tokens/${button.dataset.revoke}`);
    button.closest("tr").remove();
  } catch (error) {
    alert(error.message);
  }
});

document.getElementById("transcripts-default").addEventListener("change", async (event) => {
  try {
    await ML.api("PATCH", "/api/v1/auth/me", { transcripts_default: event.target.checked });
  } catch (error) {
    event.target.checked = !event.target.checked;
    alert(error.message);
  }
});

document.getElementById("privacy-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const action = event.submitter?.value;
  const question = action === "delete"
    ? "Delete your account and everything it owns? This cannot be undone."
    : "Replace your name everywhere with an anonymous id? You will be logged out for good.";
  if (!confirm(question)) return;
  try {
    const body = { password: form.password.value };
    const result = action === "delete"
      ? await ML.api("DELETE", "/api/v1/auth/me", body)
      : await ML.api("POST", "/api/v1/auth/me/anonymize", body);
    const out = document.getElementById("privacy-result");
    out.textContent = `Done. What changed:\n${JSON.stringify(result, null, 2)}`;
    out.hidden = false;
    form.querySelectorAll("button").forEach((b) => (b.disabled = true));
  } catch (error) {
    alert(error.message);
  }
});
