// split-gguf.js — writes a model as llama.cpp's gguf-split does: N complete GGUF files
// "<stem>-0000k-of-0000N.gguf", all metadata in the first, every part carrying split.no (u16),
// split.count (u16) and split.tensors.count (i32), the tensors divided between the parts in order.

import { writeGguf, u16, i32 } from '../../../bindings/js/convert/gguf-writer.js';

/**
 * @param {import('../../../bindings/js/convert/gguf-writer.js').GgufContent} content the whole model
 * @param {string} stem path without the "-0000k-of-0000N.gguf" suffix
 * @param {number} n parts (>= 1)
 * @returns {Promise<string[]>} the part paths in order
 */
export async function writeSplitGguf(content, stem, n) {
  const tensors = content.tensors;
  const per = Math.ceil(tensors.length / n);
  const paths = [];
  for (let k = 0; k < n; k++) {
    const split = /** @type {Array<[string, any]>} */ ([['split.no', u16(k)], ['split.count', u16(n)], ['split.tensors.count', i32(tensors.length)]]);
    const metadata = k === 0 ? [...content.metadata, ...split] : split;
    const path = `${stem}-${String(k + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.gguf`;
    await writeGguf(path, { metadata, tensors: tensors.slice(k * per, (k + 1) * per), alignment: content.alignment });
    paths.push(path);
  }
  return paths;
}
