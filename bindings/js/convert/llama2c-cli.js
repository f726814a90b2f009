#!/usr/bin/env node
// Command line: convert a llama2.c checkpoint to GGUF.
//   node bindings/js/convert/llama2c-cli.js IN.bin OUT.gguf [--f16] [--name NAME]

import { convertLlama2cFile } from './llama2c.js';

const USAGE = 'usage: llama2c-cli.js IN.bin OUT.gguf [--f16] [--name NAME]';

/** @param {string[]} argv @returns {Promise<number>} */
async function main(argv) {
    const pos = [];
    /** @type {{weightType?: 'F32' | 'F16', name?: string}} */
    const opts = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--f16') opts.weightType = 'F16';
        else if (a === '--name') opts.name = argv[++i];
        else if (a === '-h' || a === '--help') { console.log(USAGE); return 0; }
        else if (a.startsWith('-')) { console.error(`unknown option ${a}\n${USAGE}`); return 2; }
        else pos.push(a);
    }
    if (pos.length !== 2) { console.error(USAGE); return 2; }
    const { config, bytes } = await convertLlama2cFile(pos[0], pos[1], opts);
    console.log(`${pos[1]}: ${bytes} bytes; dim ${config.dim}, hidden ${config.hidden_dim}, `
        + `${config.n_layers} layers, ${config.n_heads}/${config.n_kv_heads} heads, vocab ${config.vocab_size}, `
        + `ctx ${config.seq_len}, ${config.shared_classifier ? 'tied' : 'untied'} output`);
    return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    console.error(`llama2c-cli: ${e.message}`);
    process.exitCode = 1;
});
