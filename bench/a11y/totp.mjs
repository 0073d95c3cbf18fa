// The current RFC 6238 code (HMAC-SHA1, 30 s steps, 6 digits) for a base32 secret, as an
// authenticator app shows it: `node totp.mjs SECRET [STEP_OFFSET]`.
import { createHmac } from 'node:crypto';

const [secret, offset = '0'] = process.argv.slice(2);
if (!secret) {
  console.error('usage: node totp.mjs BASE32_SECRET [STEP_OFFSET]');
  process.exit(2);
}
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
let bits = '';
for (const c of secret.toUpperCase().replace(/[=\s-]/g, '')) {
  const v = alphabet.indexOf(c);
  if (v < 0) throw new Error(`not base32: ${c}`);
  bits += v.toString(2).padStart(5, '0');
}
const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
const counter = Buffer.alloc(8);
counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + Number(offset)));
const mac = createHmac('sha1', key).update(counter).digest();
const at = mac[mac.length - 1] & 0xf;
const code = (mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000;
console.log(String(code).padStart(6, '0'));
