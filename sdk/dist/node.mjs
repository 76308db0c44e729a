// src/hooks/signature.ts
import { createHmac, timingSafeEqual } from "node:crypto";
var SIGNATURE_HEADER = "X-Callhook-Signature";
var DEFAULT_TOLERANCE_SEC = 300;
function signCallhook(rawBody, secret, unixSec) {
  const mac = createHmac("sha256", secret).update(`${unixSec}.`).update(rawBody).digest("hex");
  return `t=${unixSec},v1=${mac}`;
}
function signWcs(rawBody, secret) {
  return `WCS ${createHmac("md5", secret).update(rawBody).digest("hex")}`;
}
function verifySignature(rawBody, header, secret, options = {}) {
  if (header === void 0 || header === null || header === "") return { ok: false, reason: "missing" };
  let t;
  const macs = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return { ok: false, reason: "malformed" };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (!/^\d{1,12}$/.test(value) || t !== void 0) return { ok: false, reason: "malformed" };
      t = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-f]{64}$/.test(value)) return { ok: false, reason: "malformed" };
      macs.push(value);
    }
  }
  if (t === void 0 || macs.length === 0) return { ok: false, reason: "malformed" };
  const nowSec = Math.floor((options.now ?? Date.now()) / 1e3);
  if (Math.abs(nowSec - t) > (options.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return { ok: false, reason: "expired" };
  const expected = Buffer.from(signCallhook(rawBody, secret, t).slice(`t=${t},v1=`.length), "hex");
  const match = macs.some((m) => timingSafeEqual(Buffer.from(m, "hex"), expected));
  return match ? { ok: true } : { ok: false, reason: "mismatch" };
}
function verifyWcsSignature(rawBody, header, secret) {
  if (header === void 0 || header === null || header === "") return { ok: false, reason: "missing" };
  const m = /^WCS ([0-9a-fA-F]{32})$/.exec(header.trim());
  if (m === null) return { ok: false, reason: "malformed" };
  const expected = Buffer.from(signWcs(rawBody, secret).slice(4), "hex");
  return timingSafeEqual(Buffer.from(m[1].toLowerCase(), "hex"), expected) ? { ok: true } : { ok: false, reason: "mismatch" };
}
export {
  DEFAULT_TOLERANCE_SEC,
  SIGNATURE_HEADER,
  signCallhook,
  verifySignature,
  verifyWcsSignature
};
