// Admin models page: add an uploaded GGUF as a model, remove one, choose the default.
"use strict";

(() => {
  const form = document.getElementById("model-add");
  if (form) {
    const state = document.getElementById("model-add-state");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = Object.fromEntries(new FormData(form));
      state.textContent = "Copying and checking the file…";
      form.querySelector("button").disabled = true;
      try {
        const added = await ML.api("POST", "/api/v1/admin/models", body);
        state.textContent = `Added ${added.name} (${added.quantisation}, context ${added.context_length ?? "unknown"}); ${added.note}.`;
        setTimeout(() => location.reload(), 1500);
      } catch (error) {
        state.textContent = error.message;
      } finally {
        form.querySelector("button").disabled = false;
      }
    });
  }
  document.getElementById("model-table").addEventListener("click", async (event) => {
    const row = event.target.closest("tr[data-model]");
    if (!row) return;
    const name = row.dataset.model;
    try {
      if (event.target.matches("[data-model-remove]")) {
        if (!confirm(`Remove ${name} and delete its file?`)) return;
        await ML.api("DELETE", `/api/v1/admin/models/${encodeURIComponent(name)}`);
        row.remove();
      } else if (event.target.matches("[data-model-default]")) {
        await ML.api("PUT", `/api/v1/admin/models/${encodeURIComponent(name)}/default`);
        location.reload();
      }
    } catch (error) {
      alert(error.message);
    }
  });
})();
