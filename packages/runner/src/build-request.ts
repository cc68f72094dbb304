import { Blob } from "node:buffer";
import { FormData } from "undici";
import type { ActionRunSpec, HttpMethod, ParamSpec } from "@nagent/registry";

/** An HTTP request ready to send, built from an action's manifest mapping and a validated input. */
export interface UpstreamRequest {
  readonly method: HttpMethod;
  /** Absolute URL. Never logged whole: its query may carry the caller's data. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string | FormData;
}

/** The value of a `file` input: the file's bytes in base64 and its name. */
export interface FileInput {
  readonly filename: string;
  readonly content_base64: string;
  readonly content_type?: string;
}

/**
 * Maps an input onto the wire as `integrations/FORMAT.md` describes: path variables URL-encoded, query values
 * (arrays repeated or comma-joined, booleans as true/false), a JSON body (named, raw or spread), or a multipart form
 * with a file part. The input must already be valid for the action; absent optional properties are simply omitted.
 */
export function buildRequest(action: Pick<ActionRunSpec, "http" | "params">, input: Readonly<Record<string, unknown>>, baseUrl: string): UpstreamRequest {
  const path = action.http.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = input[name];
    if (value === undefined || value === null || value === "") throw new Error(`path variable ${name} has no value`);
    return encodeURIComponent(String(value));
  });
  const url = new URL(baseUrl.replace(/\/+$/, "") + path);
  const headers: Record<string, string> = { accept: "application/json" };
  let json: Record<string, unknown> | undefined;
  let raw: { value: unknown } | undefined;
  let form: FormData | undefined;

  for (const [name, spec] of Object.entries(action.params) as [string, ParamSpec][]) {
    const value = input[name];
    if (value === undefined) continue;
    const wire = spec.wire ?? name;
    switch (spec.in) {
      case "path":
        break;
      case "query":
        appendQuery(url.searchParams, wire, value, spec.style);
        break;
      case "body":
        (json ??= {})[wire] = value;
        break;
      case "body_spread":
        json = { ...(json ?? {}), ...(value as Record<string, unknown>) };
        break;
      case "body_raw":
        raw = { value };
        break;
      case "form":
        (form ??= new FormData()).append(wire, typeof value === "string" ? value : JSON.stringify(value));
        break;
      case "file": {
        const file = value as FileInput;
        const bytes = Buffer.from(file.content_base64, "base64");
        const blob = new Blob([bytes], file.content_type ? { type: file.content_type } : {});
        (form ??= new FormData()).append(wire, blob, file.filename);
        break;
      }
    }
  }

  const request = { method: action.http.method, url: url.toString(), headers };
  if (form) return { ...request, body: form };
  if (raw) return { ...request, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(raw.value) };
  if (json) return { ...request, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(json) };
  return request;
}

function appendQuery(params: URLSearchParams, name: string, value: unknown, style: "comma" | undefined): void {
  if (Array.isArray(value)) {
    if (style === "comma") params.append(name, value.map(scalar).join(","));
    else for (const item of value) params.append(name, scalar(item));
    return;
  }
  params.append(name, scalar(value));
}

function scalar(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** Replaces `{name}` placeholders of an `on_conflict` lookup with the input's values (URL-encoded in paths). */
export function fillTemplate(template: string, input: Readonly<Record<string, unknown>>, encode: boolean): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = String(input[name] ?? "");
    return encode ? encodeURIComponent(value) : value;
  });
}
