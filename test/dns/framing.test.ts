import test from 'ava';
import { frame, takeFrames } from '../../src/dns/framing.js';

test('TCP framing: length first, split messages, keep the rest', (t) => {
  const stream = Buffer.concat([
    frame(Buffer.from('one')),
    frame(Buffer.from('two')),
    Buffer.from([0, 5, 1]),
  ]);
  const { messages, rest } = takeFrames(stream);
  t.deepEqual(messages.map(String), ['one', 'two']);
  t.deepEqual([...rest], [0, 5, 1]);
});
