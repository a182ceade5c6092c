import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { faultInputProblems, ruleMatches, type FaultRule } from '../../src/domain/faults.ts';
import { latestTick, nextTick } from '../../src/jobs/status-batch-scheduler.ts';
import { parseDuration } from '../../src/cli/control.ts';
import { ShiftedClock } from '../../src/clock.ts';
import { Controls } from '../../src/operations/controls.ts';
import type { Database } from '../../src/store/db.ts';

const NOW = new Date('2030-01-01T12:00:00Z');

function rule(overrides: Partial<FaultRule> = {}): FaultRule {
  return {
    ruleId: 1, route: 'init', pspId: null, msn: null, pspTransactionId: null, status: 503, retryAfterSeconds: null, delayMs: 0,
    dropConnection: false, remaining: null, probability: null, hits: 0, expiresAt: null, createdAt: NOW, ...overrides,
  };
}

describe('fault rules', () => {
  it('match their route, and only the PSP, MSN and payment they name', () => {
    const target = { pspId: 'A', msn: '123456', pspTransactionIds: ['tx1', 'tx2'] };
    assert.equal(ruleMatches(rule(), 'init', target, NOW), true);
    assert.equal(ruleMatches(rule(), 'details', target, NOW), false);
    assert.equal(ruleMatches(rule({ pspId: 'A' }), 'init', target, NOW), true);
    assert.equal(ruleMatches(rule({ pspId: 'B' }), 'init', target, NOW), false);
    assert.equal(ruleMatches(rule({ pspId: 'A' }), 'init', {}, NOW), false, 'an unknown PSP never matches a scoped rule');
    assert.equal(ruleMatches(rule({ msn: '654321' }), 'init', target, NOW), false);
    assert.equal(ruleMatches(rule({ pspTransactionId: 'tx2' }), 'init', target, NOW), true);
    assert.equal(ruleMatches(rule({ pspTransactionId: 'tx3' }), 'init', target, NOW), false);
  });

  it('stop matching when used up or expired', () => {
    assert.equal(ruleMatches(rule({ remaining: 0 }), 'init', {}, NOW), false);
    assert.equal(ruleMatches(rule({ remaining: 1 }), 'init', {}, NOW), true);
    assert.equal(ruleMatches(rule({ expiresAt: NOW }), 'init', {}, NOW), false);
    assert.equal(ruleMatches(rule({ expiresAt: new Date(NOW.getTime() + 1) }), 'init', {}, NOW), true);
  });

  it('need an effect that fits the route', () => {
    assert.deepEqual(faultInputProblems({ route: 'init', status: 503 }), []);
    assert.deepEqual(faultInputProblems({ route: 'makePayment', delayMs: 100 }), []);
    assert.equal(faultInputProblems({ route: 'init' }).length, 1);
    assert.equal(faultInputProblems({ route: 'init', delayMs: 0 }).length, 1);
    assert.equal(faultInputProblems({ route: 'init', status: 500, drop: true }).length, 1);
    assert.equal(faultInputProblems({ route: 'init', status: 500, retryAfterSeconds: 3 }).length, 1);
    assert.equal(faultInputProblems({ route: 'makePayment', drop: true }).length, 1);
    assert.equal(faultInputProblems({ route: 'signup', status: 503, msn: '123456' }).length, 1);
  });
});

describe('the batch schedule after a jump of the clock', () => {
  it('runs the last tick passed, once', () => {
    const tick = nextTick('0 2 * * *', 'Europe/Oslo', new Date('2030-01-01T12:00:00Z'));
    assert.equal(tick.toISOString(), '2030-01-02T01:00:00.000Z');
    // Three nights later: one run, for the last night.
    assert.equal(latestTick('0 2 * * *', 'Europe/Oslo', new Date('2030-01-04T12:00:00Z'), tick).toISOString(), '2030-01-04T01:00:00.000Z');
    // Exactly at the tick, and just after: the tick itself.
    assert.equal(latestTick('0 2 * * *', 'Europe/Oslo', tick, tick).toISOString(), tick.toISOString());
    assert.equal(latestTick('0 2 * * *', 'Europe/Oslo', new Date(tick.getTime() + 5000), tick).toISOString(), tick.toISOString());
  });
});

describe('the shifted clock and durations', () => {
  it('adds its offset to the base clock', () => {
    const clock = new ShiftedClock({ now: () => NOW });
    assert.equal(clock.now().getTime(), NOW.getTime());
    clock.setOffset(600_000);
    assert.equal(clock.now().toISOString(), '2030-01-01T12:10:00.000Z');
    assert.equal(clock.baseNow().getTime(), NOW.getTime());
  });

  it('reads s, m, h and d', () => {
    assert.equal(parseDuration('90'), 90);
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('10m'), 600);
    assert.equal(parseDuration('1.5h'), 5400);
    assert.equal(parseDuration('2D'), 172800);
    for (const bad of ['', '-1m', '10 m', '1w', 'm']) assert.throws(() => parseDuration(bad), /not a duration/, bad);
  });
});

describe('the process copy of the shared controls', () => {
  it('a read overtaken by a later one (the background poll) settles only once the later state is applied', async () => {
    // Reads of test_controls answer when the test says so, in any order.
    const pending: Array<(row: { clock_offset_ms: number; faults_version: number }) => void> = [];
    const database = {
      kind: 'postgres',
      query: () => new Promise((resolve) => { pending.push((row) => resolve([row])); }),
      db: { execute: async () => ({ rows: [] }) },
    } as unknown as Database;
    const clock = new ShiftedClock();
    const controls = new Controls({ database, clock, enabled: true, log: { warn() {} } });
    const sync = () => (controls as unknown as { sync(): Promise<void> }).sync();

    let firstSettled = false;
    const first = sync().then(() => { firstSettled = true; });
    const second = sync();
    assert.equal(pending.length, 2);
    // The earlier read answers with the old state, the later one (started after the change) is slower.
    pending[0]({ clock_offset_ms: 0, faults_version: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(firstSettled, false, 'the overtaken read waits for the later one');
    pending[1]({ clock_offset_ms: 600_000, faults_version: 0 });
    await first;
    assert.equal(clock.offsetMs, 600_000);
    await second;
  });
});
