/**
 * A PostgreSQL cluster of a fault test's own (not the shared test server, which
 * runs with fsync off): started through src/db/embedded.ts, migrated, and
 * killable the hard way — SIGKILL to every one of its processes at once.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { freePort, startEmbeddedCluster, type EmbeddedCluster } from '../../src/db/embedded.ts';
import { ensureDatabase, migrateWithCurrent } from '../../src/db/migrate.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type Service } from '../../src/service.ts';
import { createUser } from '../../sql/identity.queries.ts';
export { freePort };

export interface FaultCluster {
  dir: string;
  port: number;
  /** Connection string of the migrated `sandbar` database. */
  url: string;
  adminUrl: string;
  /** SIGKILLs the postmaster and every backend, checkpointer, WAL writer… at once; resolves when all are gone. */
  killAll(): Promise<number>;
  /** Starts the cluster again on the same directory and port (crash recovery runs). */
  restart(): Promise<void>;
  /** Stops the cluster and removes its directory. */
  destroy(): Promise<void>;
}

export async function startFaultCluster(settings: Record<string, string | number>): Promise<FaultCluster> {
  const dir = await mkdtemp(path.join(process.env.SANDBAR_TEST_DATA_DIR ?? os.tmpdir(), 'fault-pg-'));
  const pgdata = path.join(dir, 'pg');
  const port = await freePort();
  const options = { dir: pgdata, port, settings: { max_connections: 100, ...settings } };
  let cluster: EmbeddedCluster = await startEmbeddedCluster(options);
  // If this process dies (say, of the postgres.js crash the durability test can provoke), its cluster must not outlive it.
  const killOnExit = () => {
    try {
      process.kill(Number(readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGKILL');
    } catch {
      /* not running */
    }
  };
  process.once('exit', killOnExit);
  const adminUrl = cluster.url('postgres');
  await ensureDatabase(adminUrl, 'sandbar');
  const url = cluster.url('sandbar');
  await migrateWithCurrent(url, adminUrl);
  return {
    dir,
    port,
    url,
    adminUrl,
    async killAll() {
      const postmaster = Number(readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const pids = [postmaster, ...childrenOf(postmaster)];
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      const deadline = Date.now() + 10_000;
      while (pids.some((pid) => existsSync(`/proc/${pid}`) && !isZombie(pid))) {
        if (Date.now() > deadline) throw new Error(`postgres processes survived SIGKILL: ${pids.join(',')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // Dead, but until reaped a zombie postmaster still answers kill(pid, 0): pg_ctl would then take
      // the cluster for running and startEmbeddedCluster would adopt it instead of starting it.
      const reaped = Date.now() + 5_000;
      while (existsSync(`/proc/${postmaster}`) && Date.now() < reaped) await new Promise((r) => setTimeout(r, 20));
      if (existsSync(`/proc/${postmaster}`)) rmSync(path.join(pgdata, 'postmaster.pid'), { force: true });
      return pids.length;
    },
    async restart() {
      cluster = await startEmbeddedCluster(options);
    },
    async destroy() {
      process.off('exit', killOnExit);
      await cluster.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function childrenOf(ppid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may contain spaces, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) children.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return children;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** The service in this process, on the fault cluster. */
export async function startFaultService(cluster: FaultCluster, env: Record<string, string> = {}): Promise<Service> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_URL: cluster.url,
    SANDBAR_DATA_DIR: cluster.dir,
    // Short, so a request waiting on a dead database gives up well within the clients' timeouts.
    SANDBAR_STATEMENT_TIMEOUT_MS: '5000',
    ...env,
  });
  return startService(config, createLogger(config.LOG_LEVEL), {
    url: cluster.url,
    server: { kind: 'external', url: () => cluster.url, stop: async () => undefined },
  });
}

/** A user with a personal access token, made directly in the database. */
export async function faultUser(service: Service): Promise<{ id: string; token: string }> {
  const [user] = await createUser.run({ email: `fault-${Date.now()}-${Math.random()}@example.test`, isSuperuser: false }, service.db.conn);
  const issued = await service.auth.issuePersonalToken(user!.id, 'fault', 1);
  return { id: user!.id, token: issued.token };
}

export function superuser(url: string): postgres.Sql {
  return postgres(url, { max: 2, onnotice: () => undefined });
}

export async function until(what: string, condition: () => Promise<boolean> | boolean, deadlineMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
