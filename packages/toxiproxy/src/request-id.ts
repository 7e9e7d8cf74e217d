import { randomBytes } from 'node:crypto';

// Request ids in the xid format the real server's middleware uses: 12 bytes (time,
// machine, pid, counter) in 20 characters of base32hex, lower case.
const ALPHABET = '0123456789abcdefghijklmnopqrstuv';
const machine = randomBytes(3);
let counter = randomBytes(3).readUIntBE(0, 3);

export function requestId(): string {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 0);
  machine.copy(bytes, 4);
  bytes.writeUInt16BE(process.pid & 0xffff, 7);
  counter = (counter + 1) & 0xffffff;
  bytes.writeUIntBE(counter, 9, 3);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out + ALPHABET[(value << (5 - bits)) & 31];
}
