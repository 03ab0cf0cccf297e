import pino, { type Logger } from 'pino';

/** One JSON line per event on stdout. Tokens and credentials are never logged. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'sandbar' },
    redact: {
      paths: ['authorization', 'token', 'password', '*.authorization', '*.token', '*.password', 'headers.authorization'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
