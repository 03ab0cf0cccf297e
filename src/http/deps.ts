import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Db } from '../db/db.ts';
import type { Auth } from '../identity/auth.ts';

/** What every route module receives. */
export interface Deps {
  config: Config;
  db: Db;
  log: Logger;
  auth: Auth;
}
