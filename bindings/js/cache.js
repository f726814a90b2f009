// cache.js — the browser's model cache: downloaded model files kept in IndexedDB, keyed by URL.
//
// Why IndexedDB (not the Cache API, not OPFS): it works the same in a Window and in a dedicated
// Worker, its transactions let the one record that makes an entry visible be committed atomically
// and last, it stores ArrayBuffer values directly, and every browser has it. OPFS's fast
// synchronous handles exist only in workers, and the Cache API stores whole Responses with no
// transaction spanning an index and its data.
//
// Layout (database 'smallmind-models', version 1):
//   entries  keyPath 'key', index 'writeId'   {key, writeId, size, crc32, chunks, storedAt, meta}
//   chunks   key [writeId, i]                 ArrayBuffer of chunkBytes (8 MiB; the last shorter)
//   writes   keyPath 'writeId'                {writeId, key, startedAt, lastActivity}
// A write stores its chunks under a fresh writeId, so until commit() puts the entry pointing at
// them (in a transaction of its own, after checking every chunk is there) nothing can see them.
// Chunks no entry points to are garbage unless their writer is alive: a writer holds a Web Lock
// named after its writeId, which the browser releases when the page or worker goes away; where
// Web Locks are missing, a write idle for `staleWriteMs` counts as abandoned. Garbage (crashed
// writes, chunks of replaced entries) is collected when a cache is opened and after each commit.
//
// Verifying data against the stored crc32 is the caller's job; this module only keeps it.

const DEFAULT_DB_NAME = 'smallmind-models';
const DB_VERSION = 1;
const MiB = 2 ** 20;
const DEFAULT_CHUNK_BYTES = 8 * MiB;
const DEFAULT_STALE_WRITE_MS = 10 * 60_000;

/** writeIds of writes in progress in this JS realm: never garbage, whatever the locks say */
const liveWrites = new Set();

/** The cache could not do what was asked; `cause` holds the IndexedDB error, if any. */
export class CacheError extends Error {
  /**
   * @param {string} message
   * @param {{key?: string, cause?: unknown}} [opts]
   */
  constructor(message, opts = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CacheError';
    /** @type {string | undefined} the entry's key (model URL) */
    this.key = opts.key;
  }
}

/** The browser refused to store more (its storage quota for this site is used up). */
export class CacheQuotaError extends CacheError {
  /**
   * @param {string} message
   * @param {{key?: string, bytes?: number, usage?: number, quota?: number, cause?: unknown}} [opts]
   */
  constructor(message, opts = {}) {
    super(message, opts);
    this.name = 'CacheQuotaError';
    /** @type {number | undefined} size of the entry that was being stored */
    this.bytes = opts.bytes;
    /** @type {number | undefined} navigator.storage.estimate().usage after the failure */
    this.usage = opts.usage;
    /** @type {number | undefined} navigator.storage.estimate().quota */
    this.quota = opts.quota;
  }
}

/**
 * @typedef {object} CacheEntry
 * @property {string} key the model URL
 * @property {number} size bytes
 * @property {number | null} crc32 as given to commit()
 * @property {number} chunks number of chunk records
 * @property {number} storedAt Date.now() at commit
 * @property {any} meta as given to commit() (any structured-cloneable value)
 */

/**
 * @typedef {object} CacheOptions
 * @property {string} [dbName] IndexedDB database name (default 'smallmind-models')
 * @property {number} [chunkBytes] bytes per stored record, 64 KiB – 64 MiB (default 8 MiB)
 * @property {number} [staleWriteMs] without Web Locks: how long an idle write counts as alive
 *   (default 10 minutes)
 * @property {boolean} [collect] collect garbage left by crashed writes on open (default true)
 */

/** True when this runtime has IndexedDB (browsers' windows and workers; not Node). */
export function isCacheAvailable() {
  try {
    return typeof globalThis.indexedDB?.open === 'function';
  } catch {
    return false; // some opaque-origin contexts throw on access
  }
}

/**
 * Opens the model cache. Resolves to null when IndexedDB is missing (Node, Deno, old runtimes) or
 * the browser refuses it (storage disabled, opaque origin); throws CacheError on other failures.
 * @param {CacheOptions} [opts]
 * @returns {Promise<ModelCache | null>}
 */
export async function openModelCache(opts = {}) {
  if (!isCacheAvailable()) return null;
  const store = new Store(opts);
  try {
    await store.connect();
  } catch (e) {
    const name = /** @type {any} */ (e)?.name;
    if (name === 'SecurityError' || name === 'InvalidStateError') return null;
    throw await toCacheError(e, 'open', store.dbName);
  }
  if (opts.collect !== false) await store.collect().catch(() => {}); // best effort
  return new ModelCache(store);
}

export class ModelCache {
  /** @type {Store} */
  #store;

  /** @param {Store} store (use openModelCache) */
  constructor(store) {
    this.#store = store;
  }

  /** Always true for an opened cache (openModelCache resolves null when there is none). */
  get available() {
    return true;
  }

  /** @returns {string} the IndexedDB database name */
  get dbName() {
    return this.#store.dbName;
  }

  /**
   * The committed entry stored for `key`, or null.
   * @param {string} key
   * @returns {Promise<CacheEntry | null>}
   */
  async lookup(key) {
    checkKey(key);
    try {
      const entry = await this.#store.getEntry(key);
      return entry ? publicEntry(entry) : null;
    } catch (e) {
      throw await toCacheError(e, 'look up', key);
    }
  }

  /**
   * Yields the stored bytes of `key` in order, one Uint8Array per record. Throws CacheError when
   * there is no entry, or a record is missing (the entry was deleted or replaced meanwhile).
   * @param {string} key
   * @returns {AsyncGenerator<Uint8Array, void, void>}
   */
  async *read(key) {
    checkKey(key);
    const store = this.#store;
    /** @type {StoredEntry | undefined} */
    let entry;
    try {
      entry = await store.getEntry(key);
    } catch (e) {
      throw await toCacheError(e, 'read', key);
    }
    if (!entry) throw new CacheError(`the model cache has no entry for ${key}`, { key });
    const { writeId, chunks } = entry;
    const fetchChunk = (/** @type {number} */ i) => {
      const p = store.getChunk(writeId, i);
      p.catch(() => {}); // awaited below; a consumer that stops early leaves it unobserved
      return p;
    };
    let next = chunks > 0 ? fetchChunk(0) : null;
    let total = 0;
    for (let i = 0; i < chunks; i++) {
      /** @type {Uint8Array | undefined} */
      let bytes;
      try {
        bytes = await next ?? undefined;
      } catch (e) {
        throw await toCacheError(e, `read chunk ${i} of`, key);
      }
      next = i + 1 < chunks ? fetchChunk(i + 1) : null; // fetch ahead while the caller works
      if (!bytes) {
        throw new CacheError(`chunk ${i} of ${chunks} of the cached ${key} is missing (deleted or replaced while being read)`, { key });
      }
      total += bytes.length;
      yield bytes;
    }
    if (total !== entry.size) {
      throw new CacheError(`the cached ${key} holds ${total} bytes, its entry says ${entry.size}`, { key });
    }
  }

  /**
   * Starts storing a new version of `key`. Nothing is visible until the writer's commit().
   * @param {string} key
   * @param {{size?: number}} [opts] the expected size, for error messages and a check at commit
   * @returns {Promise<CacheWriter>}
   */
  async beginWrite(key, opts = {}) {
    checkKey(key);
    const size = opts.size;
    if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
      throw new TypeError(`beginWrite: size must be a non-negative integer, got ${size}`);
    }
    const store = this.#store;
    const writeId = randomId();
    liveWrites.add(writeId);
    const release = await holdLock(store.lockName(writeId));
    try {
      await store.startWrite(writeId, key);
    } catch (e) {
      liveWrites.delete(writeId);
      release();
      throw await toCacheError(e, 'start storing', key, size);
    }
    return new CacheWriter(store, { key, writeId, size, release });
  }

  /**
   * Every committed entry, sorted by key.
   * @returns {Promise<Array<{key: string, size: number, storedAt: number, meta: any}>>}
   */
  async list() {
    try {
      const all = await this.#store.allEntries();
      return all
        .map(({ key, size, storedAt, meta }) => ({ key, size, storedAt, meta }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    } catch (e) {
      throw await toCacheError(e, 'list', this.#store.dbName);
    }
  }

  /**
   * Removes `key`'s entry and its data in one transaction.
   * @param {string} key
   * @returns {Promise<boolean>} whether there was an entry
   */
  async delete(key) {
    checkKey(key);
    try {
      return await this.#store.deleteEntry(key);
    } catch (e) {
      throw await toCacheError(e, 'delete', key);
    }
  }

  /** Removes every entry, and all stored data except that of writes still in progress. */
  async clear() {
    try {
      await this.#store.clearEntries();
      await this.#store.collect();
    } catch (e) {
      throw await toCacheError(e, 'clear', this.#store.dbName);
    }
  }

  /**
   * The browser's storage estimate for this site, or null where there is none.
   * @returns {Promise<{usage: number | undefined, quota: number | undefined} | null>}
   */
  estimate() {
    return storageEstimate();
  }

  /** Closes the database connection; a later call opens it again. */
  close() {
    this.#store.disconnect();
  }
}

/** Stores one version of one entry: write() the bytes, then commit() or abort(). */
export class CacheWriter {
  /** @type {Store} */ #store;
  /** @type {string} */ #writeId;
  /** @type {number | undefined} */ #size;
  /** @type {() => void} */ #release;
  /** @type {Uint8Array | null} */ #buf = null;
  #fill = 0;
  #index = 0;
  #written = 0;
  /** @type {'open' | 'committed' | 'aborted' | 'failed'} */ #state = 'open';
  /** @type {Promise<unknown>} */ #queue = Promise.resolve();

  /**
   * @param {Store} store
   * @param {{key: string, writeId: string, size?: number, release: () => void}} w (use beginWrite)
   */
  constructor(store, w) {
    this.#store = store;
    /** @type {string} */
    this.key = w.key;
    this.#writeId = w.writeId;
    this.#size = w.size;
    this.#release = w.release;
  }

  /** Bytes accepted by write() so far. */
  get bytesWritten() {
    return this.#written;
  }

  /** 'open', 'committed', 'aborted' or 'failed' (an error discarded what was written). */
  get state() {
    return this.#state;
  }

  /**
   * Appends bytes. They are gathered into records of chunkBytes; the promise settles once any
   * full record is stored, so awaiting each write() bounds the memory held.
   * @param {Uint8Array} chunk
   * @returns {Promise<void>}
   */
  write(chunk) {
    if (!(chunk instanceof Uint8Array)) return Promise.reject(new TypeError('CacheWriter.write expects a Uint8Array'));
    return this.#enqueue(async () => {
      this.#assertOpen('write');
      const cap = this.#store.chunkBytes;
      for (let off = 0; off < chunk.length;) {
        this.#buf ??= new Uint8Array(cap);
        const n = Math.min(chunk.length - off, cap - this.#fill);
        this.#buf.set(chunk.subarray(off, off + n), this.#fill);
        this.#fill += n;
        this.#written += n;
        off += n;
        if (this.#fill === cap) await this.#flush();
      }
    });
  }

  /**
   * Stores what is buffered, then makes the entry visible: its index record is written last, in
   * a transaction of its own that also checks every chunk record is present, and replaces any
   * previous entry for the key atomically (the old data is deleted afterwards).
   * @param {{size?: number, crc32?: number, meta?: any}} [info] `size`, when given, must equal
   *   the bytes written; `crc32` and `meta` are stored as they are
   * @returns {Promise<CacheEntry>}
   */
  commit(info = {}) {
    return this.#enqueue(async () => {
      this.#assertOpen('commit');
      await this.#flush();
      const total = this.#written;
      for (const expected of [info.size, this.#size]) {
        if (expected !== undefined && expected !== total) {
          await this.#fail(new CacheError(`cannot commit ${this.key}: ${total} bytes were written, ${expected} expected`, { key: this.key }));
        }
      }
      /** @type {StoredEntry} */
      const entry = {
        key: this.key,
        writeId: this.#writeId,
        size: total,
        crc32: info.crc32 ?? null,
        chunks: this.#index,
        storedAt: Date.now(),
        meta: info.meta ?? null,
      };
      try {
        await this.#store.commitEntry(entry);
      } catch (e) {
        await this.#fail(e);
      }
      this.#finish('committed');
      await this.#store.collect().catch(() => {}); // the replaced entry's data; best effort
      return publicEntry(entry);
    });
  }

  /** Discards everything written so far. Does nothing after commit() or a failure. */
  abort() {
    return this.#enqueue(async () => {
      if (this.#state !== 'open') return;
      this.#finish('aborted');
      await this.#store.discard(this.#writeId).catch(() => {}); // else collected later
    });
  }

  /** @template T @param {() => Promise<T>} fn @returns {Promise<T>} */
  #enqueue(fn) {
    const p = this.#queue.then(fn);
    this.#queue = p.catch(() => {});
    return p;
  }

  /** @param {string} what */
  #assertOpen(what) {
    if (this.#state !== 'open') throw new CacheError(`cannot ${what} ${this.key}: the cache writer is ${this.#state}`, { key: this.key });
  }

  async #flush() {
    if (this.#fill === 0 || !this.#buf) return;
    const cap = this.#store.chunkBytes;
    // a full buffer goes as is (put() copies it at once, so it can be reused); a short one is
    // sliced, since cloning a view would store its whole underlying buffer
    const data = this.#fill === cap ? this.#buf.buffer : this.#buf.slice(0, this.#fill).buffer;
    try {
      await this.#store.putChunk(this.#writeId, this.#index, /** @type {ArrayBuffer} */ (data));
    } catch (e) {
      await this.#fail(e);
    }
    this.#index++;
    this.#fill = 0;
  }

  /** @param {'committed' | 'aborted' | 'failed'} state */
  #finish(state) {
    this.#state = state;
    this.#buf = null;
    liveWrites.delete(this.#writeId);
    this.#release();
  }

  /**
   * Removes the partial data, then throws `e` as a CacheError (CacheQuotaError for quota).
   * @param {unknown} e @returns {Promise<never>}
   */
  async #fail(e) {
    this.#finish('failed');
    await this.#store.discard(this.#writeId).catch(() => {}); // else collected later
    throw await toCacheError(e, 'store', this.key, this.#size ?? this.#written, this.#index * this.#store.chunkBytes);
  }
}

// -- IndexedDB ------------------------------------------------------------------------------------

/**
 * @typedef {CacheEntry & {writeId: string}} StoredEntry
 * @typedef {{writeId: string, key: string, startedAt: number, lastActivity: number}} WriteRecord
 * @typedef {{abort: (e: unknown) => void, guard: <A extends any[]>(fn: (...a: A) => void) => (...a: A) => void}} TxControl
 */

/** @param {string} writeId */
const chunkRange = (writeId) => IDBKeyRange.bound([writeId, 0], [writeId, []]);

class Store {
  /** @param {CacheOptions} opts */
  constructor(opts) {
    /** @type {string} */
    this.dbName = opts.dbName ?? DEFAULT_DB_NAME;
    const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 64 * 1024 || chunkBytes > 64 * MiB) {
      throw new RangeError(`chunkBytes must be an integer from 64 KiB to 64 MiB, got ${chunkBytes}`);
    }
    /** @type {number} */
    this.chunkBytes = chunkBytes;
    /** @type {number} */
    this.staleWriteMs = opts.staleWriteMs ?? DEFAULT_STALE_WRITE_MS;
    /** @type {Promise<IDBDatabase> | null} */
    this.db = null;
  }

  /** @param {string} writeId */
  lockName(writeId) {
    return `smallmind-cache:${this.dbName}:write:${writeId}`;
  }

  /** @returns {Promise<IDBDatabase>} */
  connect() {
    this.db ??= openDatabase(this.dbName, () => { this.db = null; });
    this.db.catch(() => { this.db = null; });
    return this.db;
  }

  disconnect() {
    const db = this.db;
    this.db = null;
    db?.then((d) => d.close(), () => {});
  }

  /**
   * Runs `body` in one transaction; resolves with its return value once the transaction has
   * committed, rejects with the first error (a request's, a callback's, or the abort's).
   * @template T
   * @param {string[]} stores @param {IDBTransactionMode} mode
   * @param {(tx: IDBTransaction, ctl: TxControl) => T} body
   * @param {{durability?: 'strict' | 'relaxed' | 'default'}} [options]
   * @returns {Promise<T>}
   */
  async tx(stores, mode, body, options) {
    const db = await this.connect();
    return new Promise((resolve, reject) => {
      /** @type {IDBTransaction} */
      let tx;
      try {
        tx = db.transaction(stores, mode, options);
      } catch (e) {
        reject(e);
        return;
      }
      /** @type {unknown} */
      let failure;
      /** @type {T} */
      let value;
      const abort = (/** @type {unknown} */ e) => {
        failure ??= e;
        try { tx.abort(); } catch { /* already finishing */ }
      };
      /** @type {TxControl['guard']} */
      const guard = (fn) => (...a) => {
        try { fn(...a); } catch (e) { abort(e); }
      };
      tx.oncomplete = () => resolve(value);
      tx.onabort = () => reject(failure ?? tx.error ?? new DOMException('the IndexedDB transaction was aborted', 'AbortError'));
      try {
        value = body(tx, { abort, guard });
      } catch (e) {
        abort(e);
      }
    });
  }

  /** @param {string} key @returns {Promise<StoredEntry | undefined>} */
  async getEntry(key) {
    const out = await this.tx(['entries'], 'readonly', (tx) => {
      /** @type {{entry: StoredEntry | undefined}} */
      const r = { entry: undefined };
      const req = tx.objectStore('entries').get(key);
      req.onsuccess = () => { r.entry = req.result; };
      return r;
    });
    return out.entry;
  }

  /** @returns {Promise<StoredEntry[]>} */
  async allEntries() {
    const out = await this.tx(['entries'], 'readonly', (tx) => {
      /** @type {{all: StoredEntry[]}} */
      const r = { all: [] };
      const req = tx.objectStore('entries').getAll();
      req.onsuccess = () => { r.all = req.result; };
      return r;
    });
    return out.all;
  }

  /** @param {string} writeId @param {number} index @returns {Promise<Uint8Array | undefined>} */
  async getChunk(writeId, index) {
    const out = await this.tx(['chunks'], 'readonly', (tx) => {
      /** @type {{value: any}} */
      const r = { value: undefined };
      const req = tx.objectStore('chunks').get([writeId, index]);
      req.onsuccess = () => { r.value = req.result; };
      return r;
    });
    const v = out.value;
    if (v === undefined) return undefined;
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    if (typeof Blob !== 'undefined' && v instanceof Blob) return new Uint8Array(await v.arrayBuffer());
    throw new CacheError(`chunk ${index} of write ${writeId} holds a ${typeof v}, not bytes`);
  }

  /** @param {string} writeId @param {string} key */
  startWrite(writeId, key) {
    const now = Date.now();
    return this.tx(['writes'], 'readwrite', (tx) => {
      tx.objectStore('writes').add({ writeId, key, startedAt: now, lastActivity: now });
    });
  }

  /**
   * Stores one chunk record, provided the write has not been discarded meanwhile.
   * @param {string} writeId @param {number} index @param {ArrayBuffer} data
   */
  putChunk(writeId, index, data) {
    return this.tx(['writes', 'chunks'], 'readwrite', (tx, { abort, guard }) => {
      const writes = tx.objectStore('writes');
      const req = writes.get(writeId);
      req.onsuccess = guard(() => {
        const w = /** @type {WriteRecord | undefined} */ (req.result);
        if (!w) return abort(new CacheError('the write was discarded (the cache was cleared, or it was taken for abandoned)'));
        w.lastActivity = Date.now();
        writes.put(w);
        tx.objectStore('chunks').put(data, [writeId, index]);
      });
    });
  }

  /**
   * Puts the entry (replacing any for its key) and ends its write, in one strict-durability
   * transaction that first checks the write still exists with all of its chunk records.
   * @param {StoredEntry} entry
   */
  commitEntry(entry) {
    return this.tx(['entries', 'writes', 'chunks'], 'readwrite', (tx, { abort, guard }) => {
      const count = tx.objectStore('chunks').count(chunkRange(entry.writeId));
      const write = tx.objectStore('writes').get(entry.writeId);
      write.onsuccess = guard(() => {
        if (!write.result) {
          return abort(new CacheError(`cannot commit ${entry.key}: the write was discarded (the cache was cleared, or it was taken for abandoned)`, { key: entry.key }));
        }
        if (count.result !== entry.chunks) {
          return abort(new CacheError(`cannot commit ${entry.key}: ${count.result} of its ${entry.chunks} chunk records are stored`, { key: entry.key }));
        }
        tx.objectStore('entries').put(entry);
        tx.objectStore('writes').delete(entry.writeId);
      });
    }, { durability: 'strict' });
  }

  /** Deletes a write's records and chunks. @param {string} writeId */
  discard(writeId) {
    return this.tx(['writes', 'chunks'], 'readwrite', (tx) => {
      tx.objectStore('chunks').delete(chunkRange(writeId));
      tx.objectStore('writes').delete(writeId);
    });
  }

  /** @param {string} key @returns {Promise<boolean>} */
  async deleteEntry(key) {
    const out = await this.tx(['entries', 'chunks'], 'readwrite', (tx, { guard }) => {
      const r = { found: false };
      const entries = tx.objectStore('entries');
      const req = entries.get(key);
      req.onsuccess = guard(() => {
        const entry = /** @type {StoredEntry | undefined} */ (req.result);
        if (!entry) return;
        r.found = true;
        entries.delete(key);
        tx.objectStore('chunks').delete(chunkRange(entry.writeId));
      });
      return r;
    });
    return out.found;
  }

  clearEntries() {
    return this.tx(['entries'], 'readwrite', (tx) => { tx.objectStore('entries').clear(); });
  }

  /**
   * Deletes the data no entry points to, except that of writes still alive. A snapshot names the
   * candidates; a second transaction re-checks each one before deleting it, so a write that
   * commits in between keeps its data.
   * @returns {Promise<number>} how many writes' data were deleted
   */
  async collect() {
    const snap = await this.tx(['entries', 'writes', 'chunks'], 'readonly', (tx) => {
      const r = {
        referenced: /** @type {Set<string>} */ (new Set()),
        writes: /** @type {WriteRecord[]} */ ([]),
        chunkOwners: /** @type {Set<string>} */ (new Set()),
      };
      const refs = tx.objectStore('entries').index('writeId').openKeyCursor();
      refs.onsuccess = () => {
        const c = refs.result;
        if (!c) return;
        r.referenced.add(/** @type {string} */ (c.key));
        c.continue();
      };
      const writes = tx.objectStore('writes').getAll();
      writes.onsuccess = () => { r.writes = writes.result; };
      const keys = tx.objectStore('chunks').openKeyCursor();
      keys.onsuccess = () => {
        const c = keys.result;
        if (!c) return;
        const owner = /** @type {[string, number]} */ (c.key)[0];
        r.chunkOwners.add(owner);
        c.continue([owner, []]); // an array sorts after every number: skips to the next owner
      };
      return r;
    });
    // locks are queried after the snapshot: a write in it took its lock before it existed
    const held = await heldLockNames();
    const now = Date.now();
    const writes = new Map(snap.writes.map((w) => [w.writeId, w]));
    /** @param {WriteRecord | undefined} w */
    const alive = (w) => !!w && (liveWrites.has(w.writeId) ||
      (held ? held.has(this.lockName(w.writeId)) : now - w.lastActivity < this.staleWriteMs));
    const candidates = [...new Set([...snap.chunkOwners, ...writes.keys()])]
      .filter((id) => !snap.referenced.has(id) && !liveWrites.has(id) && !alive(writes.get(id)));
    if (candidates.length === 0) return 0;

    const out = await this.tx(['entries', 'writes', 'chunks'], 'readwrite', (tx, { guard }) => {
      const r = { deleted: 0 };
      const byWrite = tx.objectStore('entries').index('writeId');
      const writeStore = tx.objectStore('writes');
      for (const id of candidates) {
        const refs = byWrite.count(id);
        const rec = writeStore.get(id);
        rec.onsuccess = guard(() => {
          const w = /** @type {WriteRecord | undefined} */ (rec.result);
          if (refs.result !== 0 || liveWrites.has(id)) return;
          if (w && !held && now - w.lastActivity < this.staleWriteMs) return;
          if (w && w.lastActivity !== writes.get(id)?.lastActivity) return; // it moved: alive
          tx.objectStore('chunks').delete(chunkRange(id));
          writeStore.delete(id);
          r.deleted++;
        });
      }
      return r;
    });
    return out.deleted;
  }
}

/**
 * @param {string} name @param {() => void} onGone called when the connection is lost or must close
 * @returns {Promise<IDBDatabase>}
 */
function openDatabase(name, onGone) {
  return new Promise((resolve, reject) => {
    /** @type {IDBOpenDBRequest} */
    let req;
    try {
      req = indexedDB.open(name, DB_VERSION);
    } catch (e) {
      reject(e);
      return;
    }
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('entries')) {
        db.createObjectStore('entries', { keyPath: 'key' }).createIndex('writeId', 'writeId', { unique: true });
      }
      if (!db.objectStoreNames.contains('chunks')) db.createObjectStore('chunks');
      if (!db.objectStoreNames.contains('writes')) db.createObjectStore('writes', { keyPath: 'writeId' });
    };
    req.onsuccess = () => {
      const db = req.result;
      // a newer version elsewhere wants to upgrade: step aside; the next call reopens
      db.onversionchange = () => { db.close(); onGone(); };
      db.onclose = onGone;
      resolve(db);
    };
    req.onerror = () => reject(req.error);
  });
}

// -- Web Locks ------------------------------------------------------------------------------------

/** @returns {any} navigator.locks where it exists */
const locks = () => /** @type {any} */ (globalThis.navigator)?.locks;

/**
 * Takes an exclusive Web Lock; resolves with its release function (a no-op without Web Locks).
 * @param {string} name @returns {Promise<() => void>}
 */
async function holdLock(name) {
  const l = locks();
  if (typeof l?.request !== 'function') return () => {};
  /** @type {() => void} */
  let release = () => {};
  const released = new Promise((ok) => { release = () => ok(undefined); });
  await new Promise((acquired, failed) => {
    l.request(name, { mode: 'exclusive' }, () => {
      acquired(undefined);
      return released;
    }).catch(failed);
  });
  return release;
}

/** @returns {Promise<Set<string> | null>} names of the held locks, null without Web Locks */
async function heldLockNames() {
  const l = locks();
  if (typeof l?.query !== 'function') return null;
  try {
    const q = await l.query();
    return new Set((q.held ?? []).map((/** @type {{name: string}} */ x) => x.name));
  } catch {
    return null;
  }
}

// -- helpers --------------------------------------------------------------------------------------

/** @param {StoredEntry} e @returns {CacheEntry} */
function publicEntry({ key, size, crc32, chunks, storedAt, meta }) {
  return { key, size, crc32, chunks, storedAt, meta };
}

/** @param {unknown} key */
function checkKey(key) {
  if (typeof key !== 'string' || key === '') throw new TypeError('a cache key must be a non-empty string (the model URL)');
}

function randomId() {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** @returns {Promise<{usage: number | undefined, quota: number | undefined} | null>} */
async function storageEstimate() {
  const s = /** @type {any} */ (globalThis.navigator)?.storage;
  if (typeof s?.estimate !== 'function') return null;
  try {
    const { usage, quota } = await s.estimate();
    return { usage, quota };
  } catch {
    return null;
  }
}

/** @param {unknown} e */
function isQuotaError(e) {
  const name = /** @type {any} */ (e)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** @param {number | undefined} n */
const mib = (n) => (n === undefined ? '?' : `${(n / MiB).toFixed(1)} MiB`);

/**
 * @param {unknown} e @param {string} op e.g. 'store' @param {string} key
 * @param {number} [bytes] size being stored @param {number} [stored] bytes stored before failing
 * @returns {Promise<CacheError>}
 */
async function toCacheError(e, op, key, bytes, stored) {
  if (e instanceof CacheError) return e;
  if (isQuotaError(e)) {
    const est = await storageEstimate();
    const what = bytes === undefined ? '' : ` ${bytes} bytes (${mib(bytes)})`;
    const after = stored ? ` after ${stored} bytes had been stored` : '';
    const have = est?.quota !== undefined ? `; the browser reports ${mib(est.usage)} used of a ${mib(est.quota)} quota for this site` : '';
    return new CacheQuotaError(
      `not enough storage to cache ${key}: storing${what} exceeded the browser's storage quota${after}${have}. The partial data was removed.`,
      { key, bytes, usage: est?.usage, quota: est?.quota, cause: e });
  }
  const err = /** @type {any} */ (e);
  const why = err?.name ? `${err.name}: ${err.message}` : String(e);
  return new CacheError(`model cache: could not ${op} ${key}: ${why}`, { key, cause: e });
}
