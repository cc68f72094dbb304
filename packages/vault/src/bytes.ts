/**
 * Builds an unambiguous byte string from fields: strings are length-prefixed (uint16 BE + UTF-8), integers are
 * fixed-width big-endian, so no two different field lists encode to the same bytes (what associated data needs).
 */
export class ByteWriter {
  private readonly parts: Buffer[] = [];

  u8(value: number): this {
    const b = Buffer.alloc(1);
    b.writeUInt8(value);
    this.parts.push(b);
    return this;
  }

  u32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value);
    this.parts.push(b);
    return this;
  }

  str(value: string): this {
    const text = Buffer.from(value, "utf8");
    if (text.length > 0xffff) throw new RangeError("field longer than 65535 bytes");
    const len = Buffer.alloc(2);
    len.writeUInt16BE(text.length);
    this.parts.push(len, text);
    return this;
  }

  bytes(value: Uint8Array): this {
    this.parts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    return this;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}
