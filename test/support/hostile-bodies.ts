// JSON values built to cost a server time or memory, each exactly `size` bytes: a flat list of
// numbers, deep nesting, long strings, many keys, many small objects, lists of lists. The tests and
// `npm run bench:hostile` send the same shapes.

export type Shape = (size: number) => string;

/**
 * One repeated unit between an opening and a closing part, padded with spaces to exactly `size`
 * bytes (UTF-8); `repeat` builds the repeated part for a count of units.
 */
export function fill(size: number, open: string, close: string, unitBytes: number, repeat: (count: number) => string): string {
  const room = size - Buffer.byteLength(open) - Buffer.byteLength(close);
  const body = repeat(Math.floor(room / unitBytes));
  const pad = room - Buffer.byteLength(body);
  if (pad < 0) throw new Error(`the shape does not fit in ${size} bytes`);
  return `${open}${body}${' '.repeat(pad)}${close}`;
}

const inner = `[${'0,'.repeat(9_999)}0]`;

export const HOSTILE_SHAPES: Record<string, Shape> = {
  'a flat list of numbers': (size) => fill(size, '[0', ']', 2, (n) => ',0'.repeat(n)),
  'deep nesting': (size) => fill(size, '', '', 2, (n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  'a long string': (size) => fill(size, '"', '"', 1, (n) => 'x'.repeat(n)),
  'a long string of two-byte characters': (size) => fill(size, '"', '"', 2, (n) => 'ø'.repeat(n)),
  'a long string of escapes': (size) => fill(size, '"', '"', 6, (n) => '\\u00f8'.repeat(n)),
  'many keys': (size) => {
    const keys: string[] = [];
    let bytes = 2;
    for (let i = 0; bytes + 16 < size; i++) {
      const key = `"k${i}":0`;
      keys.push(key);
      bytes += key.length + 1;
    }
    return fill(size, `{${keys.join(',')}`, '}', 1, (n) => ' '.repeat(n));
  },
  'many small objects': (size) => fill(size, '[{}', ']', 3, (n) => ',{}'.repeat(n)),
  'lists of lists of numbers': (size) => fill(size, '[[]', ']', inner.length + 1, (n) => `,${inner}`.repeat(n)),
};
