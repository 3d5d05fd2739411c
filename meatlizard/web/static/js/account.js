"use strict";

document.getElementById("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  try {
    const created = await ML.api("POST", "/api/v1/auth/tokens", { name: form.name.value });
    document.getElementById("token-value").textContent = created.token;
    document.getElementById("token-created").hidden = false;
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
