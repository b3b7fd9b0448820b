/**
 * Reading the `reqxml` form field the three ways real clients send it (§1.1): GET query string,
 * POST application/x-www-form-urlencoded, POST multipart/form-data.
 */
import type { IncomingMessage } from 'node:http';
import { Response } from 'undici';

export const API_PATH = '/webconsole/APIController';
/** Far above any realistic request (a 5,000-member group update is ~250 KB); guards the emulator's memory. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  readonly code = 'EMULATOR_BODY_TOO_LARGE';
  readonly retryable = false;
  constructor() {
    super(`request body over ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** The reqxml text, or undefined when the request carries none (→ 529). */
export async function extractReqxml(method: string, url: URL, contentType: string, body: Buffer): Promise<string | undefined> {
  const fromQuery = url.searchParams.get('reqxml') ?? undefined;
  if (method !== 'POST') return fromQuery;
  const ct = contentType.toLowerCase();
  if (ct.startsWith('multipart/form-data')) {
    try {
      const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
      const v = form.get('reqxml');
      if (typeof v === 'string') return v;
      // curl -F "reqxml=<file" sends text; a file part (curl -F "reqxml=@file") is read as UTF-8 too.
      return v ? await v.text() : fromQuery;
    } catch {
      return undefined;
    }
  }
  if (body.length > 0) {
    // Form decoding splits at every raw '&': an XML body that was not URL-encoded gets cut (§1.1, janweis).
    return new URLSearchParams(body.toString('utf8')).get('reqxml') ?? fromQuery;
  }
  return fromQuery;
}
