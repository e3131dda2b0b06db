import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Rewrites the generated part of one section of a markdown file: the text between
 * `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`. Other sections (and hand-written
 * text around the markers) are kept. A missing section is appended under `heading`.
 */
export function replaceSection(markdown: string, name: string, heading: string, body: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = markdown.indexOf(start);
  const to = markdown.indexOf(end);
  if (from >= 0 && to > from) return markdown.slice(0, from) + block + markdown.slice(to + end.length);
  const base = markdown.trimEnd();
  return `${base}${base === '' ? '' : '\n\n'}${heading}\n\n${block}\n`;
}

export function writeSection(file: string, name: string, heading: string, body: string): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeFileSync(file, replaceSection(current, name, heading, body));
}
