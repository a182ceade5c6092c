// The gate that slows checks of a key over its failure limit: at most `concurrency` at a time, the
// rest waiting in arrival order, and no room once `queue` are waiting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Gate } from '../../src/http/plugins/auth-failure-limit.ts';

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('Gate', () => {
  it('runs at most `concurrency` tasks at once, the others in arrival order, and has no room once the queue is full', async () => {
    const gate = new Gate(2, 2);
    const started: number[] = [];
    const finish = Array.from({ length: 4 }, () => deferred());
    const runs = finish.map((d, i) => gate.run(async () => { started.push(i); await d.promise; return i; }));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1], 'two run, two wait');
    assert.equal(gate.hasRoom(), false, 'two running and two waiting: full');
    finish[1].resolve();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1, 2], 'the first waiter takes the freed slot');
    assert.equal(gate.hasRoom(), true);
    finish[0].resolve();
    finish[2].resolve();
    finish[3].resolve();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3]);
    assert.deepEqual(started, [0, 1, 2, 3]);
  });

  it('frees its slot when a task fails', async () => {
    const gate = new Gate(1, 1);
    await assert.rejects(gate.run(async () => { throw new Error('wrong secret'); }), /wrong secret/);
    assert.equal(await gate.run(async () => 'next'), 'next');
    assert.equal(gate.hasRoom(), true);
  });
});
