import os from 'node:os';
import pino, { type Logger } from 'pino';

/** One JSON line per event on stdout. Tokens and credentials are never logged. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    // pino's default base is { pid, hostname }; setting `base` replaces it, so both are restated:
    // with several replicas the hostname is what tells their lines apart.
    base: { service: 'sandbar', pid: process.pid, hostname: os.hostname() },
    redact: {
      paths: ['authorization', 'token', 'password', '*.authorization', '*.token', '*.password', 'headers.authorization'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
