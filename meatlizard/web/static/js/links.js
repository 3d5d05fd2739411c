// Link shortener: create through the API, copy the short URL, edit and delete links.
(function () {
  const error = document.getElementById("link-error");
  const show = (err) => { if (error) error.textContent = err.message || String(err); };

  // A new link goes to the top of "Your links" at once, as the page would list it after a reload.
  function listLink(link) {
    const rows = document.getElementById("links-rows");
    if (!rows || link.delete_token) return;
    const row = document.createElement("tr");
    row.innerHTML = '<td><a></a></td><td class="truncate" data-label="→"></td>' +
      '<td data-label="Clicks">0</td><td class="actions"><a>Stats &amp; edit</a></td>';
    const [short, stats] = row.querySelectorAll("a");
    short.href = link.short_url;
    short.textContent = "/s/" + link.slug;
    const target = row.querySelector(".truncate");
    target.title = link.url;
    target.textContent = link.title || link.url;
    stats.href = link.stats_url;
    rows.prepend(row);
    for (const id of ["links-list", "links-mine"]) document.getElementById(id).hidden = false;
    document.getElementById("links-empty").hidden = true;
  }

  const form = document.getElementById("link-form");
  if (form) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const body = { url: data.get("url").trim() };
      for (const key of ["slug", "title", "password"]) if (data.get(key)) body[key] = data.get(key);
      if (data.get("tags")) body.tags = data.get("tags").split(",");
      if (data.get("max_clicks")) body.max_clicks = Number(data.get("max_clicks"));
      if (data.get("expires_at")) body.expires_at = new Date(data.get("expires_at")).toISOString();
      try {
        const link = await ML.api("POST", "/api/v1/links", body);
        error.textContent = "";
        const short = document.getElementById("link-short");
        short.href = short.textContent = link.short_url;
        document.getElementById("link-preview").href = link.preview_url;
        document.getElementById("link-qr").src = link.qr_url;
        const stats = document.getElementById("link-stats");
        stats.href = link.stats_url;
        stats.hidden = !!link.delete_token;
        document.getElementById("link-token").textContent = link.delete_token
          ? "Anonymous link: keep this delete token to remove it later: " + link.delete_token : "";
        document.getElementById("link-result").hidden = false;
        listLink(link);
        form.reset();
        document.getElementById("link-copy").focus();  // Enter now copies
      } catch (err) {
        show(err);
        document.getElementById("link-url").focus();
      }
    });
  }

  const edit = document.getElementById("link-edit");
  if (edit) {
    edit.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(edit);
      const body = {
        url: data.get("url"), title: data.get("title"), enabled: data.get("enabled") === "on",
        tags: data.get("tags") ? data.get("tags").split(",") : [],
        max_clicks: data.get("max_clicks") ? Number(data.get("max_clicks")) : null,
      };
      try {
        await ML.api("PATCH", "/api/v1/links/" + edit.dataset.slug, body);
        window.location.reload();
      } catch (err) { show(err); }
    });
  }

  document.addEventListener("click", async (e) => {
    const link = e.target.closest("[data-delete-link]");
    const paste = e.target.closest("[data-delete-paste]");
    const file = e.target.closest("[data-delete-file]");
    if (!link && !paste && !file) return;
    if (!window.confirm("Delete it for good?")) return;
    try {
      if (link) await ML.api("DELETE", "/api/v1/links/" + link.dataset.deleteLink);
      else if (file) await ML.api("DELETE", "/api/v1/files/" + file.dataset.deleteFile);
      else await ML.api("DELETE", "/api/v1/pastes/" + paste.dataset.deletePaste);
      if (edit) window.location.href = "/mine";
      else e.target.closest("tr").remove();
    } catch (err) { window.alert(err.message || String(err)); }
  });
})();
