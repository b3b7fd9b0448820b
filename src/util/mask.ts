/**
 * Secret masking for log lines and error texts. A secret can reach a line in any of the forms it
 * takes on the way to a server: raw, XML-escaped (inside a request document), URL- or
 * form-encoded (inside a request body). Every form is replaced by MASK.
 */
export const MASK = '********';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * A string as an XML serialiser writes it: the five predefined entities. Used only to know which
 * spelling to mask; test/xg/xml.test.ts checks that the request builder writes exactly this.
 */
export function xmlEscaped(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

/** The spellings a secret can take on the wire (raw, XML-escaped, URL-encoded, form-encoded). */
export function wireForms(secret: string): string[] {
  return [...new Set([secret, xmlEscaped(secret), encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)])];
}

export function secretMasker(...secrets: string[]): (line: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s === '') continue;
    for (const f of wireForms(s)) forms.add(f);
  }
  // Longest first, so a form containing another is masked whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return (line) => ordered.reduce((acc, f) => acc.split(f).join(MASK), line);
}
