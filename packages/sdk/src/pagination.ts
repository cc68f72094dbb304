/** One page of a cursor-paged list. */
export interface Page<T> {
  readonly items: readonly T[];
  /** The cursor of the next page; null on the last one. */
  readonly nextCursor: string | null;
}

/**
 * A cursor-paged list, fetched lazily: `for await (const run of client.runs.list({status: "failed"}))` walks every
 * item across pages, fetching the next page only when the loop reaches it (break early and no more is fetched).
 * `pages()` walks page by page; `first()` fetches one page.
 */
export class Paginator<T> implements AsyncIterable<T> {
  readonly #fetchPage: (cursor: string | undefined) => Promise<Page<T>>;

  constructor(fetchPage: (cursor: string | undefined) => Promise<Page<T>>) {
    this.#fetchPage = fetchPage;
  }

  /** The first page (or the page at `cursor`). */
  first(cursor?: string): Promise<Page<T>> {
    return this.#fetchPage(cursor);
  }

  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.#fetchPage(cursor);
      yield page;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Every item, up to `max` (default 10,000: a guard against walking an unbounded history into memory). */
  async toArray(max = 10_000): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this) {
      if (items.length >= max) break;
      items.push(item);
    }
    return items;
  }
}
