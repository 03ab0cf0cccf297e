import { Readable } from 'node:stream';
import type { IDatabaseConnection } from '@pgtyped/runtime';
import type { Db } from '../db/db.ts';
import { checkExternalMemory } from '../memory.ts';

/**
 * Rows per round trip to the portal. The first fetch takes FIRST_FETCH_ROWS; each
 * later one is sized from the rows just read so that it carries about FETCH_BYTES,
 * between 1 and MAX_FETCH_ROWS rows: 1,000 rows of ~300 B items (a round trip per
 * 300 KB, +18 % download rate against a fixed 100), one row of 1 MB values (a
 * fixed 100 held 100 MB per stream).
 */
export const FIRST_FETCH_ROWS = 100;
export const MAX_FETCH_ROWS = 1000;
export const FETCH_BYTES = 1024 * 1024;

/** The next fetch's row count, from the raw rows of the last one. */
export function nextFetchRows(rows: Buffer[][]): number {
  if (rows.length === 0) return FIRST_FETCH_ROWS;
  let bytes = 0;
  for (const row of rows) for (const column of row) bytes += column?.length ?? 0;
  const perRow = Math.max(1, bytes / rows.length);
  return Math.min(MAX_FETCH_ROWS, Math.max(1, Math.floor(FETCH_BYTES / perRow)));
}

/**
 * A reader that takes nothing for this long is given up on. Between fetches the portal's
 * backend is neither running a statement nor "idle in transaction" as Postgres counts it,
 * so neither statement_timeout nor idle_in_transaction_session_timeout would ever free it.
 */
export const STALLED_READER_MS = 60_000;

/**
 * pgtyped's streaming interface over a postgres.js cursor. pgtyped's
 * PreparedQuery.stream() only needs `stream(query, bindings)`, so the query
 * text stays in sql/collections.sql; postgres.js runs it as a portal read
 * about FETCH_BYTES at a time, and only when asked, which is what lets a
 * slow HTTP reader slow the query down instead of buffering the collection.
 *
 * Rows come back raw: an array of column values as Buffers, in select-list
 * order. The item JSON that Postgres built is already the UTF-8 we send, so it
 * is never decoded into a JS string and encoded again; that keeps the V8 heap
 * churn of a stream (and so the RSS it leaves behind) several times smaller.
 */
export function cursorConnection(db: Pick<Db, 'long' | 'longSlot'>): IDatabaseConnection {
  return {
    query: async () => {
      throw new Error('cursorConnection only streams');
    },
    stream(query, bindings) {
      // A stream holds a long-pool slot from its first read to its close (db.longSlot()).
      let release: (() => void) | undefined;
      let portal: { cursorRows: number } | undefined;
      const opened = db.longSlot().then((releaseSlot) => {
        release = releaseSlot;
        const q = db.long.unsafe(query, bindings as never[], { prepare: true }).raw();
        // postgres.js reads `cursorRows` when it sends each Execute, which the next read() triggers.
        // Not part of its typed API: test/db/postgres-internals.test.ts pins the version it was read from.
        portal = q as unknown as { cursorRows: number };
        return q.cursor(FIRST_FETCH_ROWS)[Symbol.asyncIterator]();
      });
      let pending: Promise<unknown> = Promise.resolve();
      let closed = false;
      return {
        read() {
          const next = opened
            .then((iterator) => iterator.next())
            .then((r) => {
              if (r.done) return [];
              const rows = r.value as unknown as Buffer[][];
              portal!.cursorRows = nextFetchRows(rows);
              return rows;
            });
          pending = next;
          return next;
        },
        async close() {
          if (closed) return;
          closed = true;
          // postgres.js sends Close only for a cursor at rest: returning while a fetch is
          // in flight would leave the portal open and the connection stuck for good.
          await pending.catch(() => undefined);
          const iterator = await opened.catch(() => undefined);
          await iterator?.return?.();
          release?.();
        },
      };
    },
  };
}

/**
 * What pgtyped's PreparedQuery.stream() returns (its ICursor, not exported by the package).
 * Over cursorConnection, `rowCount` is not used: each fetch's size is set by nextFetchRows.
 */
export interface ICursor<T> {
  read(rowCount: number): Promise<T>;
  close(): Promise<void>;
}

/** A raw row of a query selecting (id, item): the id as text, the item as JSON text built by Postgres, both UTF-8. */
export type ItemRow = [id: Buffer, item: Buffer];

export interface StreamShape {
  /** Written before the first item. */
  open: string;
  /** Written after the last item; `nextAfterId` is the last id sent when more items exist, else null. */
  close(nextAfterId: string | null): string;
  /** Items to send at most; the query asks for one more, to learn whether more exist. */
  limit?: number;
}

/**
 * Reads the first batch before anything is sent, so that an error from the
 * query (a date Postgres rejects, a timeout) still becomes a proper status;
 * after that the response is committed and an error can only cut the stream.
 */
export async function openItemStream(typedCursor: ICursor<unknown[]>, shape: StreamShape): Promise<Readable> {
  // The rows are raw (see cursorConnection), whatever pgtyped's result type says.
  const cursor = typedCursor as ICursor<ItemRow[]>;
  let first: ItemRow[];
  try {
    first = await cursor.read(FIRST_FETCH_ROWS);
  } catch (error) {
    await cursor.close().catch(() => undefined);
    throw error;
  }
  return new ItemStream(cursor, first, shape);
}

/**
 * JSON text assembled from Postgres-encoded items. Node asks for more (_read)
 * only while less than highWaterMark bytes wait to be written to the socket,
 * so the cursor advances at the client's pace and memory stays flat. Koa pipes
 * it with stream.pipeline and destroys it when the client goes away; _destroy
 * then closes the cursor, which ends the portal and frees the connection.
 */
const COMMA = Buffer.from(',');

class ItemStream extends Readable {
  private started = false;
  private sent = 0;
  private lastId: Buffer | null = null;
  private stalled: NodeJS.Timeout | undefined;

  constructor(
    private readonly cursor: ICursor<ItemRow[]>,
    private prefetched: ItemRow[] | null,
    private readonly shape: StreamShape,
  ) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    clearTimeout(this.stalled);
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      const rows = this.prefetched ?? (await this.cursor.read(FIRST_FETCH_ROWS));
      this.prefetched = null;
      if (this.destroyed) return;
      const parts: Buffer[] = [];
      if (!this.started) parts.push(Buffer.from(this.shape.open));
      this.started = true;
      let more = false;
      for (const [id, item] of rows) {
        if (this.shape.limit !== undefined && this.sent === this.shape.limit) {
          more = true;
          break;
        }
        if (this.sent > 0) parts.push(COMMA);
        parts.push(item);
        this.sent += 1;
        this.lastId = id;
      }
      if (rows.length === 0 || more) {
        await this.cursor.close();
        parts.push(Buffer.from(this.shape.close(more && this.lastId ? this.lastId.toString('latin1') : null)));
        this.push(Buffer.concat(parts));
        this.push(null);
      } else {
        const wantsMore = this.push(Buffer.concat(parts));
        checkExternalMemory();
        if (!wantsMore) {
          // Full: Node calls _read again once the client has taken some; if it never does, let go.
          this.stalled = setTimeout(() => this.destroy(new Error('the client stopped reading')), STALLED_READER_MS);
          this.stalled.unref();
        }
      }
    } catch (error) {
      this.destroy(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.stalled);
    this.cursor.close().then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? (closeError as Error)),
    );
  }
}
