// A file's settings on /f/{id} for its owner: save through PATCH /api/v1/files/{id},
// show the server's errors next to the form, delete with confirmation.
"use strict";

(() => {
  const form = document.getElementById("file-edit");
  if (!form) return;
  const id = form.dataset.id;
  const error = document.getElementById("file-error");
  const status = document.getElementById("file-status");
  const password = form.elements.password;
  const remove = form.elements.remove_password;
  const savedKey = "ml-file-saved";

  if (sessionStorage.getItem(savedKey) === id) {
    sessionStorage.removeItem(savedKey);
    status.textContent = "Saved.";
  }
  if (remove) remove.addEventListener("change", () => (password.disabled = remove.checked));

  function changes() {
    const data = new FormData(form);
    const body = {
      name: data.get("name"),
      folder: data.get("folder"),
      visibility: data.get("visibility"),
      max_downloads: data.get("max_downloads") ? Number(data.get("max_downloads")) : null,
    };
    if (data.get("expires_in")) body.expires_in = data.get("expires_in");
    if (data.get("remove_password")) body.password = ""; // "" removes it
    else if (data.get("password")) body.password = data.get("password");
    return body;
  }

  function showProblem(err) {
    error.textContent = err.message || String(err);
    const fields = err.fields || [];
    for (const field of fields) form.elements[field]?.setAttribute("aria-invalid", "true");
    form.elements[fields[0]]?.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = status.textContent = "";
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const save = form.querySelector('button[type="submit"]');
    save.disabled = true;
    try {
      await ML.api("PATCH", `/api/v1/files/${id}`, changes());
      sessionStorage.setItem(savedKey, id);
      location.reload(); // the page shows the new name, state and (for passwords) raw link
    } catch (err) {
      showProblem(err);
      save.disabled = false;
    }
  });

  document.getElementById("file-delete").addEventListener("click", async () => {
    if (!confirm("Delete this file for good? Its links stop working.")) return;
    try {
      await ML.api("DELETE", `/api/v1/files/${id}`);
      location.href = "/files";
    } catch (err) {
      showProblem(err);
    }
  });
})();
