// make-smnd-seeds.js — the seed corpus of fuzz_smnd from make-seeds.js's GGUF seeds: each GGUF as
// is (fuzz_smnd converts inputs that start with "GGUF"), its SMND conversion (parsed as a file) and
// its SMND metadata JSON alone (inputs that start with '{'), plus a document with every value type.
// Needs the WASM build (the converters write SMND through it).
// Usage: node make-smnd-seeds.js GGUF_SEED_DIR OUT_DIR

import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { encodeSmnd, openInput, readGguf } from '../../bindings/js/convert/index.js';
import { encodeSmndMetadata } from '../../bindings/js/convert/smnd.js';

const [from, to] = process.argv.slice(2);
if (!from || !to) throw new Error('usage: node make-smnd-seeds.js GGUF_SEED_DIR OUT_DIR');
await mkdir(to, { recursive: true });
for (const name of await readdir(from)) {
  await copyFile(join(from, name), join(to, name));
  if (!name.endsWith('.gguf')) continue;
  const input = await openInput(new Uint8Array(await readFile(join(from, name))));
  try {
    const content = await readGguf(input);
    const stem = name.replace(/\.gguf$/, '');
    await writeFile(join(to, `${stem}.smnd`), await encodeSmnd(content, { provenance: { tool: 'seed' }, assetsBase: process.env.SM_WASM_DIR || undefined }));
    const meta = encodeSmndMetadata(content.metadata);
    await writeFile(join(to, `${stem}.json`), `{"tensor_count":${content.tensors.length},${meta.slice(1)}`);
  } catch (e) {
    // a split part or nested arrays: the GGUF seed itself still exercises the converter's refusal
    console.log(`${name}: ${/** @type {Error} */ (e).message}`);
  }
}
await writeFile(join(to, 'values.json'), '{"tensor_count":2,"kv":[["general.architecture","str","llama"],'
  + '["a","u64","18446744073709551615"],["b","f32",-0],["c","f64[]","AAAAAAAA8D8="],["n","f32","NaN"],'
  + '["d","str[]",["x",{"base64":"gA=="},"\\u00e9\\ud83e\\udd99"]],["e","bool",true],["f","i8",-3],'
  + '["g","bool[]","AQA="],["h","str",{"base64":"/8CA"}]],"provenance":{"x":[1,2,{"y":null}]}}');
console.log(`fuzz_smnd seeds written to ${to}`);
