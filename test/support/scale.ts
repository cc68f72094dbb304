/** Direct calls to the Scale sandbox (as a user would with curl), for setup that no action covers (projects). */
export async function scaleRequest(baseUrl: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function createProject(baseUrl: string, key: string, name: string, type = "imageannotation"): Promise<void> {
  const res = await scaleRequest(baseUrl, key, "POST", "/v1/projects", { type, name, params: { instruction: "Label the cats." } });
  if (res.status !== 200) throw new Error(`create project: ${res.status} ${JSON.stringify(res.body)}`);
}
