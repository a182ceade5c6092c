// Whether the server's port is free, asked before anything is created (the database, DATA_DIR), so
// that a busy port costs nothing but one clear line. The probe binds the port and closes it again:
// another process may take the port between the probe and the real listen (a race of milliseconds),
// in which case the listen fails with the same message (portProblem maps its error).
import { createServer } from 'node:net';

/** The message for a port the server cannot bind, or undefined for any other error. */
export function portProblem(err: unknown, host: string, port: number): string | undefined {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  if (code === 'EADDRINUSE') {
    return `Port ${port} on ${host} is in use by another process. Set PORT to another port (PORT=0 picks a free one), or stop that process.`;
  }
  if (code === 'EACCES') {
    return `Port ${port} on ${host} may not be bound by this user (ports below 1024 need privileges). Set PORT to 1024 or above.`;
  }
  if (code === 'EADDRNOTAVAIL') {
    return `HOST ${host} is not an address of this machine. Set HOST to one of its addresses, or 0.0.0.0 for all of them.`;
  }
  return undefined;
}

/** Resolves with undefined when host:port can be bound now, otherwise with the message to show. */
export function probePort(host: string, port: number): Promise<string | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => {
      const problem = portProblem(err, host, port);
      if (problem) resolve(problem);
      else reject(err);
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}
