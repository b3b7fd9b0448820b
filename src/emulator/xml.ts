/**
 * The emulator's XML edges: a request document → a small ordered element tree, and response
 * text built by escaping every value. Entity expansion is never performed: a DOCTYPE is refused
 * outright and only the five predefined entities and character references are decoded, so an
 * XML bomb in a request costs nothing.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XNode {
  tag: string;
  attrs: Record<string, string>;
  children: XNode[];
  /** Concatenated character data directly inside this element (entities decoded, untrimmed). */
  text: string;
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeXmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, ref: string) => {
    if (ref.startsWith('#')) {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return PREDEFINED[ref] ?? m;
  });
}

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c] as string};`);
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type Ordered = Record<string, unknown>;

function convert(raw: Ordered): XNode | string | undefined {
  const attrsRaw = (raw[':@'] ?? {}) as Record<string, unknown>;
  const tag = Object.keys(raw).find((k) => k !== ':@');
  if (tag === undefined) return undefined;
  const body = raw[tag];
  if (tag === '#text') return decodeXmlText(String(body));
  if (tag.startsWith('?') || tag === '#comment') return undefined;
  const node: XNode = { tag, attrs: {}, children: [], text: '' };
  for (const [k, v] of Object.entries(attrsRaw)) node.attrs[k] = decodeXmlText(String(v));
  for (const c of Array.isArray(body) ? (body as Ordered[]) : []) {
    const x = convert(c);
    if (typeof x === 'string') node.text += x;
    else if (x) node.children.push(x);
  }
  return node;
}

/** The root element, or undefined when the document is not well-formed XML with a single root. */
export function parseXml(doc: string): XNode | undefined {
  const text = doc.replace(/^\uFEFF/, '').trim();
  if (text === '' || /<!DOCTYPE|<!ENTITY/i.test(text)) return undefined;
  if (XMLValidator.validate(text) !== true) return undefined;
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch {
    return undefined;
  }
  const roots = (Array.isArray(parsed) ? (parsed as Ordered[]) : []).map(convert).filter((n): n is XNode => typeof n === 'object');
  return roots.length === 1 ? roots[0] : undefined;
}

export function child(n: XNode, tag: string): XNode | undefined {
  return n.children.find((c) => c.tag === tag);
}

/** Trimmed text of a child element; undefined when the element is absent. */
export function childText(n: XNode, tag: string): string | undefined {
  const c = child(n, tag);
  return c === undefined ? undefined : c.text.trim();
}

/** Texts of `<list><item>…</item>…</list>`; undefined when `list` is absent (omitted ≠ empty). */
export function childList(n: XNode, list: string, item: string): string[] | undefined {
  const c = child(n, list);
  if (c === undefined) return undefined;
  return c.children
    .filter((x) => x.tag === item)
    .map((x) => x.text.trim())
    .filter((s) => s !== '');
}

// ---- response building --------------------------------------------------------------------------

/** A response fragment: an element with escaped text or nested fragments. */
export function el(tag: string, content?: string | string[], attrs?: Record<string, string>): string {
  const a = attrs
    ? Object.entries(attrs)
        .map(([k, v]) => ` ${k}="${xmlEscape(v)}"`)
        .join('')
    : '';
  if (content === undefined || content === '' || (Array.isArray(content) && content.length === 0)) return `<${tag}${a}/>`;
  if (typeof content === 'string') return `<${tag}${a}>${xmlEscape(content)}</${tag}>`;
  return `<${tag}${a}>\n${content.map((c) => indent(c)).join('\n')}\n</${tag}>`;
}

function indent(s: string): string {
  return s.replace(/^/gm, '  ');
}

export function statusEl(code: number | undefined, text: string): string {
  return el('Status', text, code === undefined ? undefined : { code: String(code) });
}
