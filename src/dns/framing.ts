/** DNS over TCP puts each message behind its length in two bytes (RFC 1035 4.2.2). */
export function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/** Splits the complete messages off a TCP byte stream; the rest waits for more data. */
export function takeFrames(buffered: Buffer): {
  messages: Buffer[];
  rest: Buffer;
} {
  const messages: Buffer[] = [];
  let rest = buffered;
  while (rest.length >= 2 && rest.length >= 2 + rest.readUInt16BE(0)) {
    const end = 2 + rest.readUInt16BE(0);
    messages.push(rest.subarray(2, end));
    rest = rest.subarray(end);
  }
  return { messages, rest };
}
