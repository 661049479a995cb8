import * as zlib from 'zlib';

/**
 * Throws unless `xml` is well-formed: one root element, every tag closed in order, attributes quoted.
 * Enough for Graphviz's SVG (no DTD internals); a parser dependency would be more than the test needs.
 */
export function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const fail = (why: string) => {
    throw new Error(`not well-formed XML at offset ${i}: ${why}: ${JSON.stringify(xml.slice(Math.max(0, i - 40), i + 40))}`);
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) fail('bare & in text');
    if (stack.length === 0 && text.trim() !== '' ) fail('text outside the root element');
    if (lt === -1) break;
    i = lt;
    if (xml.startsWith('<!--', i)) { const e = xml.indexOf('-->', i); if (e < 0) fail('unclosed comment'); i = e + 3; continue; }
    if (xml.startsWith('<?', i)) { const e = xml.indexOf('?>', i); if (e < 0) fail('unclosed processing instruction'); i = e + 2; continue; }
    if (xml.startsWith('<![CDATA[', i)) { const e = xml.indexOf(']]>', i); if (e < 0) fail('unclosed CDATA'); i = e + 3; continue; }
    if (xml.startsWith('<!DOCTYPE', i)) { const e = xml.indexOf('>', i); if (e < 0 || stack.length) fail('bad DOCTYPE'); i = e + 1; continue; }
    const m = /^<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(xml.slice(i, i + 100_000));
    if (!m) fail('malformed tag');
    const [whole, closing, name, , selfClosing] = m!;
    if (closing) {
      if (stack.pop() !== name) fail(`</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots += 1;
      if (!selfClosing) stack.push(name);
    }
    i += whole.length;
  }
  if (stack.length) fail(`unclosed <${stack[stack.length - 1]}>`);
  if (roots !== 1) fail(`${roots} root elements`);
}

/** A decoded 8-bit RGB(A) PNG, as Chromium writes screenshots. */
export interface Image {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes per pixel. */
  readonly pixels: Buffer;
}

/** Decodes an 8-bit, non-interlaced RGB, RGBA or gray PNG (what headless Chromium writes). */
export function decodePng(png: Buffer): Image {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colorType = data[9];
      if (depth !== 8 || data[12] !== 0) throw new Error(`unsupported PNG: bit depth ${depth}, interlace ${data[12]}`);
      channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType];
      if (!channels) throw new Error(`unsupported PNG color type ${colorType}`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[x] = (line[x] + add) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const s = x * channels;
      const d = (y * width + x) * 4;
      if (channels <= 2) { out[d] = out[d + 1] = out[d + 2] = line[s]; out[d + 3] = channels === 2 ? line[s + 1] : 255; } else {
        out[d] = line[s]; out[d + 1] = line[s + 1]; out[d + 2] = line[s + 2]; out[d + 3] = channels === 4 ? line[s + 3] : 255;
      }
    }
    prev = line;
  }
  return { width, height, pixels: out };
}

/** Share of pixels that differ from the same pixel of `other` (same size) by more than a little. */
export function differingShare(a: Image, b: Image): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`images differ in size: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let differ = 0;
  for (let p = 0; p < a.pixels.length; p += 4) {
    if (Math.abs(a.pixels[p] - b.pixels[p]) + Math.abs(a.pixels[p + 1] - b.pixels[p + 1]) + Math.abs(a.pixels[p + 2] - b.pixels[p + 2]) > 30) differ += 1;
  }
  return differ / (a.width * a.height);
}
