import { describe, expect, test } from 'vitest';
import { ServingError } from '../../../../../src/shared/errors.js';
import { parseListBucketResult, type ListPage } from '../../../../../src/server/sources/s3/list-bucket-result.js';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const result = (inner: string, head = '<?xml version="1.0" encoding="UTF-8"?>\n'): string => `${head}<ListBucketResult ${NS}><Name>models</Name>${inner}</ListBucketResult>`;
const contents = (key: string, size = '16', etag = '&quot;0123abcd&quot;'): string =>
  `<Contents><Key>${key}</Key><LastModified>2026-11-22T10:00:00.000Z</LastModified><ETag>${etag}</ETag><Size>${size}</Size><Owner><ID>x</ID><DisplayName>y</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>`;

describe('parseListBucketResult reads', () => {
  const cases: { name: string; xml: string; page: ListPage }[] = [
    {
      name: 'an empty, complete page',
      xml: result('<Prefix>m/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>'),
      page: { objects: [], prefixes: [], nextToken: undefined },
    },
    {
      name: 'objects, with quoted ETags unquoted and the result Prefix not taken for a common prefix',
      xml: result(`<Prefix>m/1/</Prefix><IsTruncated>false</IsTruncated>${contents('m/1/saved_model.pb', '1234')}${contents('m/1/variables/variables.index', '0', '"ff00"')}`),
      page: {
        objects: [
          { key: 'm/1/saved_model.pb', size: 1234, etag: '0123abcd' },
          { key: 'm/1/variables/variables.index', size: 0, etag: 'ff00' },
        ],
        prefixes: [],
        nextToken: undefined,
      },
    },
    {
      name: 'common prefixes (delimiter listing)',
      xml: result('<Prefix>m/</Prefix><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>m/1/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>m/02/</Prefix></CommonPrefixes>'),
      page: { objects: [], prefixes: ['m/1/', 'm/02/'], nextToken: undefined },
    },
    {
      name: 'a truncated page with its continuation token (entities decoded)',
      xml: result(`<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&amp;x</NextContinuationToken>${contents('m/1/a')}`),
      page: { objects: [{ key: 'm/1/a', size: 16, etag: '0123abcd' }], prefixes: [], nextToken: '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&x' },
    },
    {
      name: 'a token on a last page is ignored',
      xml: result(`<IsTruncated>false</IsTruncated><NextContinuationToken>abc</NextContinuationToken>`),
      page: { objects: [], prefixes: [], nextToken: undefined },
    },
    {
      name: 'XML-escaped keys, numeric references and CDATA, never URL-decoded without EncodingType',
      xml: result(
        `<IsTruncated>false</IsTruncated>${contents('m/1/a&amp;b&lt;c&gt;&quot;&apos;.txt')}${contents('m/1/caf&#233;&#x1F600;%2E%2E')}${contents('m/1/<![CDATA[x&y<z>]]>')}${contents('m/1/a+b%20c')}`,
      ),
      page: {
        objects: [
          { key: `m/1/a&b<c>"'.txt`, size: 16, etag: '0123abcd' },
          { key: 'm/1/café😀%2E%2E', size: 16, etag: '0123abcd' },
          { key: 'm/1/x&y<z>', size: 16, etag: '0123abcd' },
          { key: 'm/1/a+b%20c', size: 16, etag: '0123abcd' },
        ],
        prefixes: [],
        nextToken: undefined,
      },
    },
    {
      name: 'URL-encoded keys and prefixes when EncodingType is url (+ is a space)',
      xml: result(
        `<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>${contents('m%2F1%2Fa+b%2520c%0A')}<CommonPrefixes><Prefix>m%2F%E2%9C%93%2F</Prefix></CommonPrefixes>`,
      ),
      page: { objects: [{ key: 'm/1/a b%20c\n', size: 16, etag: '0123abcd' }], prefixes: ['m/✓/'], nextToken: undefined },
    },
    {
      name: "an empty EncodingType (versitygw's), no declaration, comments, whitespace and a self-closed element",
      xml: result(`\n  <!-- listing -->\n  <EncodingType></EncodingType><StartAfter/>\n  <IsTruncated>false</IsTruncated>\n  ${contents('m/1/a', '7', '')}\n`, ''),
      page: { objects: [{ key: 'm/1/a', size: 7, etag: '' }], prefixes: [], nextToken: undefined },
    },
  ];
  test.each(cases)('$name', ({ xml, page }) => {
    expect(parseListBucketResult(xml)).toEqual(page);
  });

  test('a page of 1000 keys', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `m/1/assets/file-${String(i).padStart(4, '0')}.bin`);
    const page = parseListBucketResult(result(`<IsTruncated>false</IsTruncated>${keys.map((k) => contents(k)).join('')}`));
    expect(page.objects.map((o) => o.key)).toEqual(keys);
  });
});

describe('parseListBucketResult refuses, naming the problem', () => {
  const cases: { name: string; xml: string; message: RegExp }[] = [
    { name: 'an empty answer', xml: '', message: /no root element/ },
    { name: 'not XML', xml: 'Service Unavailable', message: /text outside the root element: "Service Unavailable"/ },
    { name: 'another document', xml: '<Error><Code>SlowDown</Code></Error>', message: /root element is <Error>, not <ListBucketResult>/ },
    { name: 'a cut answer', xml: result(`<IsTruncated>false</IsTruncated>${contents('m/1/a')}`).slice(0, -40), message: /ends inside <(ListBucketResult|Contents|Owner|StorageClass)>|broken end tag/ },
    { name: 'mismatched tags', xml: result('<IsTruncated>false</Truncated>'), message: /<\/Truncated> at offset \d+ does not close <IsTruncated>/ },
    { name: 'a broken start tag', xml: result('<IsTruncated false</IsTruncated>'), message: /broken start tag/ },
    { name: 'a bare ampersand', xml: result(`<IsTruncated>false</IsTruncated>${contents('m/1/a&b')}`), message: /bare "&"/ },
    { name: 'an unknown entity', xml: result(`<IsTruncated>false</IsTruncated>${contents('m/1/&nbsp;')}`), message: /bare "&"/ },
    { name: 'a reference to no character', xml: result(`<IsTruncated>false</IsTruncated>${contents('m/1/&#xD800;')}`), message: /&#xD800; is no character/ },
    { name: 'a DOCTYPE', xml: `<!DOCTYPE x [<!ENTITY a "b">]>${result('<IsTruncated>false</IsTruncated>')}`, message: /DOCTYPE/ },
    { name: 'two roots', xml: `${result('<IsTruncated>false</IsTruncated>')}<ListBucketResult/>`, message: /second root element/ },
    { name: 'no IsTruncated', xml: result(contents('m/1/a')), message: /no <IsTruncated>/ },
    { name: 'a strange IsTruncated', xml: result('<IsTruncated>maybe</IsTruncated>'), message: /<IsTruncated> is "maybe"/ },
    { name: 'two IsTruncated', xml: result('<IsTruncated>false</IsTruncated><IsTruncated>true</IsTruncated>'), message: /two <IsTruncated>/ },
    { name: 'truncated without a token', xml: result(`<IsTruncated>true</IsTruncated>${contents('m/1/a')}`), message: /truncated page without <NextContinuationToken>/ },
    { name: 'truncated with an empty token', xml: result('<IsTruncated>true</IsTruncated><NextContinuationToken></NextContinuationToken>'), message: /truncated page without <NextContinuationToken>/ },
    { name: 'Contents without Key', xml: result('<IsTruncated>false</IsTruncated><Contents><Size>1</Size></Contents>'), message: /<Contents> without <Key>/ },
    { name: 'a negative Size', xml: result(`<IsTruncated>false</IsTruncated>${contents('m/1/a', '-1')}`), message: /<Contents> of "m\/1\/a": <Size> is "-1"/ },
    { name: 'no Size', xml: result('<IsTruncated>false</IsTruncated><Contents><Key>m/1/a</Key></Contents>'), message: /<Size> is missing/ },
    { name: 'CommonPrefixes without Prefix', xml: result('<IsTruncated>false</IsTruncated><CommonPrefixes></CommonPrefixes>'), message: /<CommonPrefixes> without <Prefix>/ },
    { name: 'an unknown EncodingType', xml: result('<EncodingType>base64</EncodingType><IsTruncated>false</IsTruncated>'), message: /unknown EncodingType "base64"/ },
    { name: 'a broken URL encoding', xml: result(`<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>${contents('m/1/%E2%9C')}`), message: /"m\/1\/%E2%9C" is not URL-encoded/ },
    { name: 'an unclosed comment', xml: `<!-- x ${result('<IsTruncated>false</IsTruncated>')}`, message: /comment at offset 0 is not closed/ },
  ];
  test.each(cases)('$name', ({ xml, message }) => {
    let thrown: unknown;
    try {
      parseListBucketResult(xml);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ServingError);
    expect((thrown as ServingError).code).toBe('UNAVAILABLE');
    expect((thrown as ServingError).message).toMatch(/^S3 answered a listing with a malformed ListBucketResult: /);
    expect((thrown as ServingError).message).toMatch(message);
  });
});
