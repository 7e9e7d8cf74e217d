/**
 * Cuts a read result to `maxBytes`, returning it unchanged when it is already short enough or
 * of a shape that carries no bytes. Strings are cut on UTF-8 bytes without splitting a character.
 */
export function truncateResult(value: unknown, maxBytes: number): { value: unknown; cut: boolean } {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length <= maxBytes) return { value, cut: false };
    let end = maxBytes;
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back off a continuation byte
    return { value: bytes.subarray(0, end).toString('utf8'), cut: true };
  }
  if (value instanceof Uint8Array) {
    // Buffer and Uint8Array keep their class: subarray of a Buffer is a Buffer.
    return value.length <= maxBytes ? { value, cut: false } : { value: value.subarray(0, maxBytes), cut: true };
  }
  if (typeof value === 'object' && value !== null && 'bytesRead' in value) {
    const read = value as { bytesRead: unknown };
    if (typeof read.bytesRead === 'number' && read.bytesRead > maxBytes) {
      return { value: { ...read, bytesRead: maxBytes }, cut: true };
    }
  }
  return { value, cut: false };
}
