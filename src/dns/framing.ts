/** DNS over TCP puts each message behind its length in two bytes (RFC 1035 4.2.2). */
export function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/** The first complete message of a TCP byte stream, if one is there. */
export function nextFrame(
  buffered: Buffer,
): { message: Buffer; rest: Buffer } | undefined {
  if (buffered.length < 2) return undefined;
  const end = 2 + buffered.readUInt16BE(0);
  if (buffered.length < end) return undefined;
  return { message: buffered.subarray(2, end), rest: buffered.subarray(end) };
}

/** Splits the complete messages off a TCP byte stream; the rest waits for more data. */
export function takeFrames(buffered: Buffer): {
  messages: Buffer[];
  rest: Buffer;
} {
  const messages: Buffer[] = [];
  let rest = buffered;
  for (let next = nextFrame(rest); next; next = nextFrame(rest)) {
    messages.push(next.message);
    rest = next.rest;
  }
  return { messages, rest };
}
