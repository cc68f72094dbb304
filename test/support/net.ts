import { createServer } from "node:net";
import { once } from "node:events";

/** A loopback port that was free a moment ago (and, closed again, one where nothing listens: a refused connection). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}
