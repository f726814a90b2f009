#!/usr/bin/env node
// gen-unicode-tables.mjs — writes src/tok/unicode_data.c, the code point classes the byte-level
// BPE pre-tokenizers read (src/tok/unicode.c, src/tok/pretok.c). A developer tool, not part of
// the build (the output is committed):
//
//     cc -O2 tools/unicode/dump_categories.c -licuuc -o /tmp/dump_categories
//     /tmp/dump_categories | node tools/gen-unicode-tables.mjs > src/tok/unicode_data.c
//
// Like llama.cpp's scripts/gen-unicode-data.py: one general category per code point (N, L, Z, M,
// P, S, C, or unassigned) plus a White_Space bit, grouped into runs of equal flags.
//
// The categories are read from stdin, in the format of the UCD's DerivedGeneralCategory.txt
// ("XXXX..YYYY ; Gc" lines; code points not listed are Cn; a comment must name the version,
// "Unicode X.Y" or "DerivedGeneralCategory-X.Y"). They must be Unicode 15.1, llama.cpp's
// version: a code point assigned later is unassigned there, and must be here too.
// tools/unicode/dump_categories.c prints them from ICU 72 (Unicode 15.0) plus 15.1's additions;
// DerivedGeneralCategory-15.1.0.txt from unicode.org would do as well. The JavaScript engine's
// own Unicode (process.versions.unicode, usually newer) supplies only White_Space, which must
// hold of assigned code points alone, and is compared with the input: the differences go to
// stderr, and the input wins.

import { readFileSync } from 'node:fs';

const MAX_CODEPOINTS = 0x110000;
// Code points below this get a directly indexed table: all of 1- and 2-byte UTF-8.
const FLAT_LIMIT = 0x800;

// Order and values must match sm_ucat in src/tok/unicode.h; indexed by the category's letter
// (Cn is caught first: Cc Cf Cs Co are CONTROL).
const CATEGORIES = ['UNDEFINED', 'N', 'L', 'Z', 'M', 'P', 'S', 'C'];
const UNDEFINED = 0;
const WHITESPACE = /\p{White_Space}/u;
const FLAG_WS = 0x08;
const GC_NAMES = ['Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'Mn', 'Mc', 'Me', 'Nd', 'Nl', 'No', 'Pc', 'Pd',
    'Ps', 'Pe', 'Pi', 'Pf', 'Po', 'Sm', 'Sc', 'Sk', 'So', 'Zs', 'Zl', 'Zp', 'Cc', 'Cf', 'Cs',
    'Co', 'Cn'];

if (process.stdin.isTTY) {
    process.stderr.write('usage: /tmp/dump_categories | node tools/gen-unicode-tables.mjs > ' +
        'src/tok/unicode_data.c\n');
    process.exit(2);
}
const input = readFileSync(0, 'utf8');
const versionMatch = /^#.*?(?:Unicode |DerivedGeneralCategory-)(\d+\.\d+)/m.exec(input);
if (!versionMatch) throw new Error('input names no Unicode version');
const unicodeVersion = versionMatch[1];

// The input's general category of each code point, as an index into GC_NAMES (Cn by default).
const gc = new Uint8Array(MAX_CODEPOINTS).fill(GC_NAMES.indexOf('Cn'));
for (const line of input.split('\n')) {
    const text = line.replace(/#.*/, '').trim();
    if (!text) continue;
    const m = /^([0-9A-F]{4,6})(?:\.\.([0-9A-F]{4,6}))?\s*;\s*(\w\w)$/.exec(text);
    if (!m || !GC_NAMES.includes(m[3])) throw new Error(`bad line: ${line}`);
    const first = parseInt(m[1], 16), last = parseInt(m[2] ?? m[1], 16);
    if (last < first || last >= MAX_CODEPOINTS) throw new Error(`bad range: ${line}`);
    gc.fill(GC_NAMES.indexOf(m[3]), first, last + 1);
}

// The engine's category, for the comparison only: the major class first, then the subcategory.
const MAJOR = ['L', 'M', 'N', 'P', 'S', 'Z', 'C'].map((c) => [c, new RegExp(`\\p{${c}}`, 'u')]);
const MINOR = new Map(GC_NAMES.map((n) => [n, new RegExp(`\\p{gc=${n}}`, 'u')]));
function engineGc(ch) {
    if (MINOR.get('Cn').test(ch)) return 'Cn';
    const [major] = MAJOR.find(([, re]) => re.test(ch));
    return GC_NAMES.find((n) => n[0] === major && n !== 'Cn' && MINOR.get(n).test(ch));
}

const flags = new Uint8Array(MAX_CODEPOINTS);
const newer = [], changed = [], classChanged = [];
for (let cp = 0; cp < MAX_CODEPOINTS; cp++) {
    const name = GC_NAMES[gc[cp]];
    const ch = String.fromCodePoint(cp);
    const cat = name === 'Cn' ? UNDEFINED : CATEGORIES.indexOf(name[0]);
    const ws = WHITESPACE.test(ch);
    if (ws && cat === UNDEFINED) throw new Error(`U+${cp.toString(16)} is White_Space, unassigned`);
    flags[cp] = cat | (ws ? FLAG_WS : 0);

    const theirs = engineGc(ch);
    if (theirs === name) continue;
    if (name === 'Cn') newer.push(cp);
    else if (theirs === 'Cn') throw new Error(`U+${cp.toString(16)} unassigned in the engine`);
    else {
        changed.push(`U+${cp.toString(16).toUpperCase().padStart(4, '0')} ${name} (engine: ${theirs})`);
        if (name[0] !== theirs[0]) classChanged.push(changed.at(-1));
    }
}
process.stderr.write(
    `gen-unicode-tables: input Unicode ${unicodeVersion}, engine Unicode ` +
    `${process.versions.unicode}: ${newer.length} code points assigned only in the engine's ` +
    `(kept unassigned); ${changed.length} assigned in both with another general category ` +
    `(${classChanged.length} of them another class; the input's kept)` +
    (changed.length ? ':\n  ' + changed.join('\n  ') : '') + '\n');

// Runs of equal flags, packed as (start << 8) | flags: starts need 21 bits, so one uint32 each.
const runs = [];
for (let cp = 0; cp < MAX_CODEPOINTS; cp++) {
    if (cp === 0 || flags[cp] !== flags[cp - 1]) runs.push(((cp << 8) | flags[cp]) >>> 0);
}

const hex = (v, w) => '0x' + v.toString(16).toUpperCase().padStart(w, '0');
function table(values, width, perLine) {
    const lines = [];
    for (let i = 0; i < values.length; i += perLine) {
        const row = Array.from(values.slice(i, i + perLine), (v) => hex(v, width));
        lines.push('    ' + row.join(', ') + ',');
    }
    return lines.join('\n');
}
const flatEnd = (FLAT_LIMIT - 1).toString(16).toUpperCase().padStart(4, '0');

const out = `/*
 * unicode_data.c — generated by tools/gen-unicode-tables.mjs (Unicode ${unicodeVersion}, from
 * tools/unicode/dump_categories.c); do not edit.
 *
 * Each code point's flags: general category (sm_ucat, low 3 bits) and SM_UFLAG_WS (White_Space).
 * sm_unicode_flat covers U+0000..U+${flatEnd} directly; sm_unicode_runs covers all code points as
 * runs packed (start << 8) | flags, each lasting until the next starts (sorted, for binary search).
 */
#include "tok/unicode.h"

const uint8_t sm_unicode_flat[SM_UNICODE_FLAT_LIMIT] = {
${table(flags.subarray(0, FLAT_LIMIT), 2, 16)}
};

const uint32_t sm_unicode_runs[] = {
${table(runs, 8, 8)}
};

const uint32_t sm_unicode_n_runs = ${runs.length};
`;

process.stdout.write(out);
