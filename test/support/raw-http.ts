import { connect } from "node:net";

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends bytes as they are over a fresh TCP connection (no HTTP client would send malformed framing) and reads the
 * first answer until the server closes the connection or the answer's Content-Length has arrived.
 */
export function rawRequest(port: number, bytes: string | Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("utf8");
      const answer = parse(text);
      if (answer) resolve(answer);
      else reject(error ?? new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
    };
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      const answer = parse(Buffer.concat(chunks).toString("utf8"));
      if (answer && answer.headers["content-length"] !== undefined && Buffer.byteLength(answer.body) >= Number(answer.headers["content-length"])) finish();
    });
    socket.on("error", () => finish());
    socket.on("close", () => finish());
    socket.on("connect", () => socket.write(bytes));
  });
}

/** The first final answer in `text`: interim 1xx answers (100 Continue) are skipped, bytes past its body ignored. */
function parse(text: string): RawAnswer | null {
  while (/^HTTP\/1\.[01] 1\d\d /.test(text) && text.includes("\r\n\r\n")) text = text.slice(text.indexOf("\r\n\r\n") + 4);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) return null;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = Buffer.from(text.slice(end + 4));
  const length = Number(headers["content-length"] ?? body.length);
  return { status, headers, body: body.subarray(0, Math.min(length, body.length)).toString("utf8") };
}

/** Framing errors and oddities Node's HTTP parser or the router must refuse in the error envelope. */
export function framingCases(host: string): { name: string; bytes: string }[] {
  const h = `Host: ${host}\r\n`;
  return [
    { name: "headers over the size limit", bytes: `GET /healthz HTTP/1.1\r\n${h}X-Big: ${"a".repeat(20_000)}\r\n\r\n` },
    { name: "Content-Length with Transfer-Encoding", bytes: `POST /v1/workspaces HTTP/1.1\r\n${h}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
    { name: "an invalid header name", bytes: `GET /healthz HTTP/1.1\r\n${h}Bad Header: x\r\n\r\n` },
    { name: "a NUL in a header value", bytes: `GET /healthz HTTP/1.1\r\n${h}X-A: a\u0000b\r\n\r\n` },
    { name: "a non-numeric Content-Length", bytes: `POST /v1/workspaces HTTP/1.1\r\n${h}Content-Length: abc\r\n\r\n` },
    { name: "two different Content-Lengths", bytes: `POST /v1/workspaces HTTP/1.1\r\n${h}Content-Length: 1\r\nContent-Length: 2\r\n\r\n{}` },
    { name: "a bad chunk size", bytes: `POST /v1/workspaces HTTP/1.1\r\n${h}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n` },
    { name: "a garbage request line", bytes: "GARBAGE\r\n\r\n" },
    { name: "an unknown HTTP version", bytes: `GET /healthz HTTP/9.9\r\n${h}\r\n` },
    { name: "an undecodable percent-encoding in a path", bytes: `DELETE /v1/api-keys/%ff%fe HTTP/1.1\r\n${h}Authorization: Bearer nk_x\r\n\r\n` },
    { name: "an undecodable percent-encoding before a route's action", bytes: `POST /v1/actions/%ff%fe/execute HTTP/1.1\r\n${h}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}` },
    { name: "an encoded lone surrogate in a path", bytes: `GET /v1/runs/%ED%A0%80 HTTP/1.1\r\n${h}\r\n` },
  ];
}
