import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, SETTINGS } from '../../src/config.ts';

/** The ConfigError loadConfig throws for env; fails the test when it does not throw one. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.publicUrl, 'http://localhost:8080');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.dataDir, './.vipps-psp');
    assert.equal(c.vippsEnv, 'test');
    assert.equal(c.adminToken, undefined);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.logFormat, 'auto', 'pretty on a terminal, JSON otherwise');
    assert.equal(c.accessTokenTtlSeconds, 3600);
    assert.equal(c.dbPoolSize, 20);
  });

  it('defaults the token lifetime to 24 hours in production', () => {
    const c = loadConfig({ VIPPS_ENV: 'production' });
    assert.equal(c.vippsEnv, 'production');
    assert.equal(c.accessTokenTtlSeconds, 86400);
    assert.equal(loadConfig({ VIPPS_ENV: 'production', ACCESS_TOKEN_TTL_SECONDS: '600' }).accessTokenTtlSeconds, 600);
  });

  it('reads every setting', () => {
    const c = loadConfig({
      PORT: '9090', HOST: '127.0.0.1', PUBLIC_URL: 'https://psp.example.no/', DATABASE_URL: 'postgresql://u:p@db:5432/psp',
      DATA_DIR: '/var/lib/psp', VIPPS_ENV: 'test', ADMIN_TOKEN: 'a-long-enough-admin-token', LOG_LEVEL: 'debug',
      ACCESS_TOKEN_TTL_SECONDS: '120', DB_POOL_SIZE: '7',
    });
    assert.equal(c.port, 9090);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.publicUrl, 'https://psp.example.no', 'the trailing slash is dropped');
    assert.equal(c.databaseUrl, 'postgresql://u:p@db:5432/psp');
    assert.equal(c.dataDir, '/var/lib/psp');
    assert.equal(c.adminToken, 'a-long-enough-admin-token');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.accessTokenTtlSeconds, 120);
    assert.equal(c.dbPoolSize, 7);
  });

  it('derives PUBLIC_URL from PORT and treats empty values as unset', () => {
    assert.equal(loadConfig({ PORT: '3000' }).publicUrl, 'http://localhost:3000');
    const c = loadConfig({ PORT: '', DATABASE_URL: '  ', ADMIN_TOKEN: '', VIPPS_ENV: '' });
    assert.equal(c.port, 8080);
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.adminToken, undefined);
    assert.equal(c.vippsEnv, 'test');
  });

  const bad: Array<[string, string]> = [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['VIPPS_ENV', 'staging'],
    ['PUBLIC_URL', 'ftp://x'],
    ['PUBLIC_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'yaml'],
    ['DATABASE_URL', 'mysql://x'],
    ['ADMIN_TOKEN', 'short'],
    ['ACCESS_TOKEN_TTL_SECONDS', '10'],
    ['DB_POOL_SIZE', '0'],
  ];
  for (const [name, value] of bad) {
    it(`rejects ${name}=${value} with one problem naming ${name}`, () => {
      const err = configError({ [name]: value });
      assert.equal(err.problems.length, 1, err.problems.join('; '));
      assert.ok(err.problems[0].startsWith(name), `"${err.problems[0]}" names ${name}`);
      assert.ok(err.message.includes(name));
    });
  }

  it('reads LOG_FORMAT json or pretty, in any case', () => {
    assert.equal(loadConfig({ LOG_FORMAT: 'json' }).logFormat, 'json');
    assert.equal(loadConfig({ LOG_FORMAT: ' Pretty ' }).logFormat, 'pretty');
    assert.equal(loadConfig({ LOG_FORMAT: '' }).logFormat, 'auto');
  });

  it('reports several bad values at once, one problem each', () => {
    const err = configError({
      PORT: 'abc', VIPPS_ENV: 'staging', PUBLIC_URL: 'ftp://x', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', ADMIN_TOKEN: 'short',
    });
    const names = ['PORT', 'VIPPS_ENV', 'PUBLIC_URL', 'LOG_LEVEL', 'DATABASE_URL', 'ADMIN_TOKEN'];
    assert.equal(err.problems.length, names.length, err.problems.join('\n'));
    for (const name of names) {
      assert.equal(err.problems.filter((p) => p.startsWith(`${name} `)).length, 1, `one problem for ${name}`);
    }
    assert.equal(err.name, 'ConfigError');
    assert.match(err.message, /^Invalid configuration:\n/);
  });
});

describe('the configuration guide', () => {
  it('documents every setting with its default', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    for (const s of SETTINGS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${s.name}\` |`));
      assert.ok(row, `${s.name} is in the configuration guide's table`);
      assert.ok(row.includes(`| ${s.default} |`), `${s.name}'s default in the configuration guide is ${s.default}`);
    }
  });
});
