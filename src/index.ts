// What the package exports for embedding the server in another program (`import … from 'vipps-psp'`):
// read the configuration from an environment, start a server with it, close it when done.
//
//   import { loadConfig, startServer } from 'vipps-psp';
//   const server = await startServer(loadConfig({ PORT: '0', DATA_DIR: 'memory://' }));
//   … server.url …
//   await server.close();
export { startServer, type RunningServer } from './main.ts';
export { loadConfig, ConfigError, SETTINGS, type Config, type VippsEnv } from './config.ts';
export { systemClock, type Clock } from './clock.ts';
