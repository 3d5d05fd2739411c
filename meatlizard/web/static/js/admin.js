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
