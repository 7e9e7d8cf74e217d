// XML 1.0 admits only these characters; anything else (C0 controls, lone surrogates,
// U+FFFE/U+FFFF) makes the whole file unparseable, so it is replaced before it reaches a builder.
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text safe for any XML attribute or CDATA: invalid characters become U+FFFD, length capped. */
export function xmlText(text: string, max = 256 * 1024): string {
  const clean = text.replace(INVALID_XML, '\uFFFD');
  return clean.length > max ? `${clean.slice(0, max)}\n… (${clean.length - max} more characters)` : clean;
}

/**
 * Text for a CDATA section. The xmlbuilder under junit-report-builder splits only the first
 * "]]>" of a CDATA text, so any later one would end the section early and break the file;
 * we break every "]]>" ourselves with one space, which keeps the text readable.
 */
export function xmlCdata(text: string, max?: number): string {
  return xmlText(text, max).replaceAll(']]>', ']] >');
}
