// chat-tokens.js — the engine host's side of chat(): a rendered chat prompt (parts of template
// text and message contents, from chat.js) to token ids, and the vocabulary facts chat.js needs.
//
// Template text is parsed for special-token text ("<|im_start|>" → its token); message contents
// never are (a user typing "<|im_end|>" gets the characters, not the token). When no content holds
// special-token text, the prompt is tokenized as one text, exactly as llama.cpp tokenizes a
// rendered chat. Otherwise the template text is cut at its special tokens and the plain text
// between special tokens (template text and contents alike) is tokenized without special parsing,
// one stretch at a time, as llama.cpp's tokenizer treats text between special tokens.
// BOS: as llama.cpp does with chat templates (common/chat.cpp), a prompt gets exactly one leading
// BOS when the vocabulary asks for one, whether or not the template wrote it.

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** @typedef {import('./tokenizer.js').Tokenizer} Tokenizer */
/** @typedef {{text: string, special: boolean}} PromptPart */

/** @type {WeakMap<Tokenizer, Map<number, string | null>>} */
const controlCache = new WeakMap();

/**
 * The text of a control token (one that only special-token parsing produces, and that renders as
 * "" unless asked), or null for any other token.
 * @param {Tokenizer} tok @param {number} id @returns {string | null}
 */
export function controlText(tok, id) {
  let cache = controlCache.get(tok);
  if (!cache) controlCache.set(tok, (cache = new Map()));
  let t = cache.get(id);
  if (t === undefined) {
    t = null;
    if (tok.tokenToPiece(id).length === 0) {
      const s = utf8.decode(tok.tokenToPiece(id, { renderSpecial: true }));
      if (s) t = s;
    }
    cache.set(id, t);
  }
  return t;
}

/**
 * The id of the token whose text is exactly `text` (parsing special-token text), or -1 when the
 * text is not one token. Resolves a chat template's end marker ("<|im_end|>") to its token.
 * @param {Tokenizer} tok @param {string} text @returns {number}
 */
export function singleTokenId(tok, text) {
  if (!text) return -1;
  const ids = tok.tokenize(text, { parseSpecial: true });
  if (ids.length !== 1) return -1;
  return utf8.decode(tok.tokenToPiece(ids[0], { renderSpecial: true })) === text ? ids[0] : -1;
}

/**
 * What chat.js asks of the vocabulary: which texts are single tokens, and the BOS/EOS texts (for
 * the template's bos_token / eos_token).
 * @param {Tokenizer} tok @param {string[]} texts
 * @returns {{ids: number[], bos: string | null, eos: string | null}}
 */
export function chatVocab(tok, texts) {
  const { bos, eos } = tok.info;
  /** @param {number} id */
  const text = (id) => (id >= 0 ? utf8.decode(tok.tokenToPiece(id, { renderSpecial: true })) : null);
  return { ids: texts.map((t) => singleTokenId(tok, t)), bos: text(bos), eos: text(eos) };
}

/** @param {unknown} p @returns {p is {parts: PromptPart[]}} */
export function isPartsPrompt(p) {
  return !!p && typeof p === 'object' && Array.isArray(/** @type {any} */ (p).parts);
}

/**
 * Token ids of a rendered chat prompt.
 * @param {Tokenizer} tok @param {PromptPart[]} parts
 * @returns {number[]}
 */
export function tokenizeChatParts(tok, parts) {
  for (const p of parts) {
    if (!p || typeof p.text !== 'string' || typeof p.special !== 'boolean') {
      throw new TypeError('a chat prompt part is {text: string, special: boolean}');
    }
  }
  const hasControl = (/** @type {ArrayLike<number>} */ ids) => Array.prototype.some.call(ids, (/** @type {number} */ id) => controlText(tok, id) !== null);
  const contentIsPlain = parts.every((p) => p.special || !hasControl(tok.tokenize(p.text, { parseSpecial: true })));
  /** @type {number[]} */
  let ids;
  if (contentIsPlain) {
    ids = Array.from(tok.tokenize(parts.map((p) => p.text).join(''), { parseSpecial: true }));
  } else {
    ids = [];
    let plain = '';
    const flush = () => {
      if (plain) for (const id of tok.tokenize(plain, { parseSpecial: false })) ids.push(id);
      plain = '';
    };
    for (const p of parts) {
      if (!p.special) { plain += p.text; continue; }
      for (const s of cutAtSpecials(tok, p.text)) {
        if (typeof s === 'string') plain += s;
        else { flush(); ids.push(s.id); }
      }
    }
    flush();
  }
  const { bos, add_bos: addBos } = tok.info;
  if (addBos && bos >= 0 && ids[0] !== bos) ids.unshift(bos);
  return ids;
}

/**
 * Template text cut into plain text and the control tokens in it (the longest tokens are cut out
 * first, as llama.cpp's special-token partition does).
 * @param {Tokenizer} tok @param {string} text @returns {(string | {id: number})[]}
 */
function cutAtSpecials(tok, text) {
  /** @type {Map<string, number>} */
  const specials = new Map();
  for (const id of tok.tokenize(text, { parseSpecial: true })) {
    const t = controlText(tok, id);
    if (t !== null) specials.set(t, id);
  }
  /** @type {(string | {id: number})[]} */
  let segs = [text];
  for (const [t, id] of [...specials].sort((a, b) => b[0].length - a[0].length)) {
    segs = segs.flatMap((s) => {
      if (typeof s !== 'string') return [s];
      /** @type {(string | {id: number})[]} */
      const out = [];
      const pieces = s.split(t);
      pieces.forEach((piece, i) => {
        if (i) out.push({ id });
        if (piece) out.push(piece);
      });
      return out;
    });
  }
  return segs;
}
