import { ServingError } from '../../../shared/errors.js';
import { normalizeEtag, type ListedObject } from './remote-version.js';

/** One page of a ListObjectsV2 answer, as the source uses it. */
export interface ListPage {
  /** `Contents`: keys as stored (decoded when the answer was URL-encoded), ETags unquoted. */
  readonly objects: readonly ListedObject[];
  /** `CommonPrefixes` (with a delimiter). */
  readonly prefixes: readonly string[];
  /** `NextContinuationToken` when the listing goes on, else undefined. */
  readonly nextToken: string | undefined;
}

/**
 * Parses the XML body of a ListObjectsV2 answer (`<ListBucketResult>`). Strict: anything that is
 * not well-formed XML, or a result without `IsTruncated`, a `Contents` without `Key` or with a
 * non-numeric `Size`, a truncated page without `NextContinuationToken`, or an unknown
 * `EncodingType` is an UNAVAILABLE ServingError naming the problem (the listing is retried and
 * nothing is synced from a half-understood answer). With `EncodingType` `url` (S3 sends it only
 * when asked) keys and prefixes are decoded once, `+` being a space.
 */
export function parseListBucketResult(xml: string): ListPage {
  const root = parseXml(xml);
  if (root.name !== 'ListBucketResult') throw malformed(`the root element is <${root.name}>, not <ListBucketResult>`);
  const encoding = optionalText(root, 'EncodingType');
  // versitygw sends an empty <EncodingType/> when none was asked for.
  if (encoding !== undefined && encoding !== '' && encoding !== 'url') throw malformed(`unknown EncodingType ${JSON.stringify(encoding)}`);
  const decode = encoding === 'url' ? urlDecoded : (s: string): string => s;
  const truncated = optionalText(root, 'IsTruncated');
  if (truncated !== 'true' && truncated !== 'false') throw malformed(truncated === undefined ? 'no <IsTruncated>' : `<IsTruncated> is ${JSON.stringify(truncated)}`);
  const nextToken = optionalText(root, 'NextContinuationToken');
  if (truncated === 'true' && (nextToken === undefined || nextToken === '')) throw malformed('a truncated page without <NextContinuationToken>');
  const objects: ListedObject[] = [];
  const prefixes: string[] = [];
  for (const child of root.children) {
    if (child.name === 'Contents') {
      const key = optionalText(child, 'Key');
      if (key === undefined || key === '') throw malformed('<Contents> without <Key>');
      const size = optionalText(child, 'Size');
      if (size === undefined || !/^\d{1,15}$/.test(size)) throw malformed(`<Contents> of ${JSON.stringify(key)}: <Size> is ${size === undefined ? 'missing' : JSON.stringify(size)}`);
      objects.push({ key: decode(key), size: Number(size), etag: normalizeEtag(optionalText(child, 'ETag')) });
    } else if (child.name === 'CommonPrefixes') {
      const prefix = optionalText(child, 'Prefix');
      if (prefix === undefined) throw malformed('<CommonPrefixes> without <Prefix>');
      prefixes.push(decode(prefix));
    }
  }
  return { objects, prefixes, nextToken: truncated === 'true' ? nextToken : undefined };
}

interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  text: string;
}

function malformed(problem: string): ServingError {
  return new ServingError('UNAVAILABLE', `S3 answered a listing with a malformed ListBucketResult: ${problem}`);
}

/** The text of the one child named `name`; undefined without one; two are an error. */
function optionalText(parent: XmlElement, name: string): string | undefined {
  let found: XmlElement | undefined;
  for (const c of parent.children) {
    if (c.name !== name) continue;
    if (found !== undefined) throw malformed(`<${parent.name}> has two <${name}>`);
    found = c;
  }
  return found?.text;
}

function urlDecoded(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw malformed(`${JSON.stringify(s)} is not URL-encoded`);
  }
}

const START_TAG = /<([A-Za-z_][\w.:-]*)(?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*(\/?)>/y;
const END_TAG = /<\/([A-Za-z_][\w.:-]*)\s*>/y;
const ENTITY = /&(?:#x([0-9A-Fa-f]{1,6})|#(\d{1,7})|(amp|lt|gt|quot|apos));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * A small, strict XML reader for S3's answers: elements, attributes (read and ignored), text with
 * the predefined and numeric entities, CDATA, comments and processing instructions. DOCTYPEs
 * (and so custom entities) are refused.
 */
function parseXml(xml: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    if (text.length > 0) {
      const top = stack[stack.length - 1];
      if (top !== undefined) top.text += decodeText(text);
      else if (text.trim() !== '') throw malformed(`text outside the root element: ${JSON.stringify(text.slice(0, 40))}`);
    }
    if (lt === -1) break;
    if (xml.startsWith('</', lt)) {
      END_TAG.lastIndex = lt;
      const m = END_TAG.exec(xml);
      if (m === null) throw malformed(`a broken end tag at offset ${lt}`);
      const open = stack.pop();
      if (open?.name !== m[1]) throw malformed(`</${m[1]}> at offset ${lt} does not close ${open === undefined ? 'anything' : `<${open.name}>`}`);
      i = END_TAG.lastIndex;
    } else if (xml.startsWith('<!--', lt)) {
      i = after(xml, '-->', lt, 'a comment');
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = after(xml, ']]>', lt, 'a CDATA section');
      const top = stack[stack.length - 1];
      if (top === undefined) throw malformed('CDATA outside the root element');
      top.text += xml.slice(lt + 9, end - 3);
      i = end;
    } else if (xml.startsWith('<?', lt)) {
      i = after(xml, '?>', lt, 'a processing instruction');
    } else if (xml.startsWith('<!', lt)) {
      throw malformed('DOCTYPE declarations are not accepted');
    } else {
      START_TAG.lastIndex = lt;
      const m = START_TAG.exec(xml);
      if (m === null) throw malformed(`a broken start tag at offset ${lt}`);
      const element: XmlElement = { name: m[1]!, children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.children.push(element);
      else if (root !== undefined) throw malformed(`a second root element <${element.name}>`);
      else root = element;
      if (m[2] !== '/') stack.push(element);
      i = START_TAG.lastIndex;
    }
  }
  const open = stack[stack.length - 1];
  if (open !== undefined) throw malformed(`the answer ends inside <${open.name}>`);
  if (root === undefined) throw malformed('no root element');
  return root;
}

function after(xml: string, terminator: string, from: number, what: string): number {
  const end = xml.indexOf(terminator, from);
  if (end === -1) throw malformed(`${what} at offset ${from} is not closed`);
  return end + terminator.length;
}

function decodeText(text: string): string {
  if (!text.includes('&')) return text;
  ENTITY.lastIndex = 0;
  const decoded = text.replace(ENTITY, (_, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED[name]!;
    const code = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw malformed(`character reference &#${hex !== undefined ? `x${hex}` : dec}; is no character`);
    return String.fromCodePoint(code);
  });
  // An ampersand left over did not start an entity.
  if (text.replace(ENTITY, '').includes('&')) throw malformed(`a bare "&" in ${JSON.stringify(text.slice(0, 40))}`);
  return decoded;
}
