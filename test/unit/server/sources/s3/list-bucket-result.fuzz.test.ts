/**
 * Fuzzes the ListObjectsV2 reader with valid answers damaged token by token (an S3-compatible
 * server or a proxy can answer anything): a listing either reads as a page whose objects all have
 * keys and sizes, or is refused with UNAVAILABLE naming the problem, so the sync retries rather
 * than failing in some other way.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseListBucketResult } from '../../../../../src/server/sources/s3/list-bucket-result.js';
import { ServingError } from '../../../../../src/shared/errors.js';
import { damagedText, fuzzParameters } from '../../../../helpers/fuzz.js';

const head = '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>models</Name>';
const contents = (key: string, size: number): string => `<Contents><Key>${key}</Key><ETag>&quot;0a1b&quot;</ETag><Size>${size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
const VALID = [
  `${head}<Prefix>m/</Prefix><IsTruncated>false</IsTruncated>${contents('m/1/saved_model.pb', 1234)}${contents('m/1/variables/variables.index', 0)}</ListBucketResult>`,
  `${head}<Delimiter>/</Delimiter><IsTruncated>true</IsTruncated><NextContinuationToken>t0k3n</NextContinuationToken><CommonPrefixes><Prefix>m/1/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>m/2/</Prefix></CommonPrefixes></ListBucketResult>`,
  `${head}<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>${contents('m/1/a%20b+c.txt', 7)}<!-- note --><CommonPrefixes><Prefix><![CDATA[m/3/]]></Prefix></CommonPrefixes></ListBucketResult>`,
];
const TOKENS = ['<', '>', '</', '/>', '&', '&amp;', '&#x110000;', '&#55296;', '&#65;', ']]>', '<![CDATA[', '<!--', '-->', '<?', '?>', '<!DOCTYPE x>', '%', '%ZZ', '+', '"', "'", '=', ' ', 'Contents', 'Key', 'Size', 'IsTruncated', 'true', 'false', '99999999999999999', '-1', '\uFEFF'];

describe('parseListBucketResult under damaged answers', () => {
  test('reads a page or refuses it with UNAVAILABLE, nothing else', () => {
    const outcomes = { read: 0, refused: 0 };
    fc.assert(
      fc.property(damagedText(fc.constantFrom(...VALID), TOKENS), (xml) => {
        let page;
        try {
          page = parseListBucketResult(xml);
        } catch (error) {
          if (!(error instanceof ServingError)) throw error;
          expect(error.code).toBe('UNAVAILABLE');
          outcomes.refused++;
          return;
        }
        outcomes.read++;
        for (const o of page.objects) {
          expect(o.key.length).toBeGreaterThan(0);
          expect(Number.isSafeInteger(o.size) && o.size >= 0).toBe(true);
        }
        if (page.nextToken !== undefined) expect(page.nextToken.length).toBeGreaterThan(0);
      }),
      fuzzParameters(3000),
    );
    expect(outcomes.read, JSON.stringify(outcomes)).toBeGreaterThan(0);
    expect(outcomes.refused, JSON.stringify(outcomes)).toBeGreaterThan(0);
  });
});
