// Verify the audit log's checkpoint in the browser, independently of the hub's own check:
// C2SP signed note, Ed25519 via WebCrypto. Reads the note and the verifier key from the page
// (never from a second request), and writes the result into #browser-result.
"use strict";
(function () {
  const out = document.getElementById("browser-result");
  const noteEl = document.getElementById("checkpoint-note");
  const keyEl = document.getElementById("verifier-key");
  if (!out || !noteEl || !keyEl) { return; }
  const say = (state) => {
    out.textContent = out.dataset[state] || state;
    out.className = state === "ok" ? "ok" : "bad";
    out.dataset.state = state;
  };
  const b64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const enc = new TextEncoder();

  async function verify() {
    if (!window.crypto || !crypto.subtle) { say("unsupported"); return; }
    // Verifier key: name+keyid(8 hex)+base64(0x01 || 32-byte public key). The name has no "+",
    // but the base64 may.
    const parsed = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(keyEl.textContent.trim());
    if (!parsed) { say("bad"); return; }
    const [, name, keyIdHex, keyB64] = parsed;
    const raw = b64(keyB64);
    if (raw.length !== 33 || raw[0] !== 1) { say("bad"); return; }
    const pub = raw.slice(1);
    // Key id = SHA-256(name || "\n" || 0x01 || pub)[0:4]
    const idInput = new Uint8Array([...enc.encode(name + "\n"), 1, ...pub]);
    const idHash = new Uint8Array(await crypto.subtle.digest("SHA-256", idInput));
    const keyId = Array.from(idHash.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    if (keyId !== keyIdHex) { say("bad"); return; }
    // Note: text, a blank line, signature lines "— name base64(keyid || sig)".
    const note = noteEl.textContent;
    const split = note.lastIndexOf("\n\n");
    if (split < 0) { say("bad"); return; }
    const text = note.slice(0, split + 1);
    if (text.split("\n")[0] !== name) { say("bad"); return; }
    const lines = note.slice(split + 2).split("\n").filter((l) => l.length > 0);
    let key;
    try {
      key = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) { say("unsupported"); return; }
    for (const line of lines) {
      const prefix = "\u2014 " + name + " ";
      if (!line.startsWith(prefix)) { continue; }
      const blob = b64(line.slice(prefix.length));
      const lineId = Array.from(blob.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
      if (lineId !== keyIdHex || blob.length !== 68) { continue; }
      const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, blob.slice(4), enc.encode(text));
      if (ok) { say("ok"); return; }
    }
    say("bad");
  }
  verify().catch(() => say("bad"));
})();
