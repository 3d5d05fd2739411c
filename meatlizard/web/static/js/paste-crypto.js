// Zero-knowledge pastes: AES-256-GCM in the browser; the key lives only in the URL fragment.
"use strict";

const PasteCrypto = (() => {
  const KEY_BYTES = 32; // AES-256
  const IV_BYTES = 12; // 96-bit IV, fresh for every paste

  function toBase64(bytes) {
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const toBase64Url = (bytes) =>
    toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const fromBase64Url = (text) =>
    fromBase64(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));

  function available() {
    return Boolean(window.isSecureContext && window.crypto && crypto.subtle);
  }

  // Return {content: base64(iv + ciphertext + tag), key: base64url(raw key)}.
  async function encrypt(text) {
    const raw = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt"]);
    const plain = new TextEncoder().encode(text);
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plain));
    const out = new Uint8Array(iv.length + sealed.length);
    out.set(iv);
    out.set(sealed, iv.length);
    return { content: toBase64(out), key: toBase64Url(raw) };
  }

  async function decrypt(content, keyText) {
    const data = fromBase64(content.trim());
    const key = await crypto.subtle.importKey("raw", fromBase64Url(keyText), "AES-GCM", false, ["decrypt"]);
    const iv = data.subarray(0, IV_BYTES);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, data.subarray(IV_BYTES));
    return new TextDecoder().decode(plain);
  }

  // The fragment holds "key=..." and/or a line selection "L12" or "L12-L20", joined by "&".
  // "L-12" is the old line-link form and still selects line 12.
  function parseFragment(hash) {
    const out = { key: null, lines: null, legacy: false };
    for (const part of hash.replace(/^#/, "").split("&")) {
      if (part.startsWith("key=")) out.key = part.slice(4);
      const m = /^L(-?)(\d+)(?:-L-?(\d+))?$/.exec(part);
      if (m) {
        const a = Number(m[2]);
        const b = m[3] ? Number(m[3]) : a;
        out.lines = [Math.min(a, b), Math.max(a, b)];
        out.legacy = m[1] === "-";
      }
    }
    return out;
  }

  function buildFragment({ key, lines }) {
    const parts = [];
    if (key) parts.push("key=" + key);
    if (lines) parts.push(lines[0] === lines[1] ? "L" + lines[0] : `L${lines[0]}-L${lines[1]}`);
    return parts.length ? "#" + parts.join("&") : "";
  }

  return { available, encrypt, decrypt, parseFragment, buildFragment };
})();
