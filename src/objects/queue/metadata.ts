import { ErrorCode, ServiceError } from "../../errors";
import type { QueueAttributes } from "../../schema/queue";
import { confirmsAttributes, LaterAttributeDefaults } from "./attributes";

export interface QueueMeta {
  name: string;
  objectKeyPrefix: string;
  attributes: QueueAttributes;
  createdAt: number;
  modifiedAt: number;
}

/** The queue's name and attributes: the `queue_meta` table, with a copy in memory. */
export class QueueMetadata {
  meta: QueueMeta | null;

  constructor(private readonly sql: SqlStorage) {
    this.meta = this.load();
  }

  private load(): QueueMeta | null {
    const row = this.sql
      .exec<{ name: string; object_key_prefix: string; attributes: string; created_at: number; modified_at: number }>(
        "SELECT name, object_key_prefix, attributes, created_at, modified_at FROM queue_meta WHERE id = 1",
      )
      .toArray()[0];
    if (!row) return null;
    return {
      name: row.name,
      objectKeyPrefix: row.object_key_prefix,
      attributes: { ...LaterAttributeDefaults, ...(JSON.parse(row.attributes) as Partial<QueueAttributes>) } as QueueAttributes,
      createdAt: row.created_at,
      modifiedAt: row.modified_at,
    };
  }

  require(): QueueMeta {
    if (!this.meta) throw new ServiceError(ErrorCode.QueueNotFound, "queue does not exist");
    return this.meta;
  }

  /** Creates the queue, or confirms an identical one; a different one is a conflict. */
  create(name: string, objectKeyPrefix: string, attributes: QueueAttributes, nowMs: number): { created: boolean } {
    if (this.meta) {
      if (this.meta.name === name && confirmsAttributes(this.meta.attributes, attributes)) return { created: false };
      throw new ServiceError(ErrorCode.QueueAlreadyExists, `queue ${this.meta.name} already exists with different attributes`);
    }
    this.sql.exec(
      "INSERT INTO queue_meta (id, name, object_key_prefix, attributes, created_at, modified_at) VALUES (1, ?, ?, ?, ?, ?)",
      name,
      objectKeyPrefix,
      JSON.stringify(attributes),
      nowMs,
      nowMs,
    );
    this.meta = { name, objectKeyPrefix, attributes, createdAt: nowMs, modifiedAt: nowMs };
    return { created: true };
  }

  update(attributes: QueueAttributes, nowMs: number): void {
    const meta = this.require();
    this.sql.exec("UPDATE queue_meta SET attributes = ?, modified_at = ? WHERE id = 1", JSON.stringify(attributes), nowMs);
    this.meta = { ...meta, attributes, modifiedAt: nowMs };
  }

  /** The tables are being dropped. */
  forget(): void {
    this.meta = null;
  }
}
