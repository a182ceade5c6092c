import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundLimiter } from '../../src/delivery/outbound-limiter.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('OutboundLimiter', () => {
  it('holds one PSP to its own slots while another PSP goes ahead', async () => {
    const limiter = new OutboundLimiter(2, 10);
    await limiter.acquire('A');
    await limiter.acquire('A');
    let third = false;
    void limiter.acquire('A').then(() => { third = true; });
    await limiter.acquire('B');
    await tick();
    assert.equal(third, false, 'a third call to A waits');
    assert.equal(limiter.available('A'), 0);
    assert.equal(limiter.available('B'), 1);
    assert.deepEqual(limiter.busy(), { A: 0, B: 1 });
    limiter.release('A');
    await tick();
    assert.equal(third, true, 'a release lets the waiting call go');
    assert.equal(limiter.available('A'), 0);
  });

  it('caps the total across PSPs and serves waiters in order', async () => {
    const limiter = new OutboundLimiter(5, 2);
    await limiter.acquire('A');
    await limiter.acquire('B');
    const order: string[] = [];
    void limiter.acquire('C').then(() => order.push('C'));
    void limiter.acquire('D').then(() => order.push('D'));
    await tick();
    assert.deepEqual(order, []);
    assert.equal(limiter.availableTotal(), 0);
    limiter.release('A');
    await tick();
    assert.deepEqual(order, ['C']);
    limiter.release('B');
    await tick();
    assert.deepEqual(order, ['C', 'D']);
  });

  it('tells its listeners of every release, and fails waiting calls once closed', async () => {
    const limiter = new OutboundLimiter(1, 1);
    let releases = 0;
    limiter.onRelease(() => { releases += 1; });
    await limiter.acquire('A');
    const waiting = limiter.acquire('A');
    const reason = new Error('shutting down');
    limiter.close(reason);
    await assert.rejects(waiting, reason);
    await assert.rejects(limiter.acquire('B'), reason);
    limiter.release('A');
    assert.equal(releases, 1);
  });
});
