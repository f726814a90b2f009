// chat.js — turns chat messages into a prompt: the model's Jinja chat template (or a built-in
// format) rendered with @huggingface/jinja, split into template text and message contents.
// Loaded on the first chat() call only, so apps that never chat never load the Jinja engine.
//
// Special tokens: template text such as "<|im_start|>" must become special tokens, but a user
// typing "<|im_end|>" must not end the turn. The template is rendered twice: with the real
// contents (the text the model sees) and with a unique placeholder per content; the placeholder
// render tells which stretches of the real render are template text. The prompt crosses to the
// engine as parts [{text, special}]: special parts are parsed for special-token text, the others
// are not (generation.js / chat-tokens.js).
//
// The template's end-of-turn marker (e.g. <|im_end|>, <|eot_id|>, <|end|>, <end_of_turn>, </s>)
// is found by rendering a short probe conversation and reading what follows an assistant
// message; generation stops on it even when the file's eos/eot metadata names another token.

import { Template } from '@huggingface/jinja';
import { SmallMindError, SM_ERR_INVALID_ARG } from './errors.js';
import { checkMessages, BUILTIN_TEMPLATE_NAMES } from './chat-messages.js';

/** @typedef {import('./chat-messages.js').ChatMessage} ChatMessage */
/** @typedef {{text: string, special: boolean}} PromptPart */

// Built-in formats for files without tokenizer.chat_template, written for SmallMind from the
// formats the model cards document. Formats without a system role put the system text at the
// start of the next user turn, followed by a blank line. bos_token/eos_token are the vocabulary's.
const NL = '\\n';
/** @type {Readonly<Record<string, string>>} */
export const BUILTIN_TEMPLATES = Object.freeze({
  // ChatML (Qwen, SmolLM, many fine-tunes): <|im_start|>role\ncontent<|im_end|>\n
  chatml: `{% for m in messages %}{{ '<|im_start|>' + m.role + '${NL}' + m.content + '<|im_end|>${NL}' }}{% endfor %}`
    + `{% if add_generation_prompt %}{{ '<|im_start|>assistant${NL}' }}{% endif %}`,
  // Llama 3 Instruct: header tokens around the role, two newlines, trimmed content, <|eot_id|>
  llama3: `{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m.role + '<|end_header_id|>${NL}${NL}' }}`
    + `{{ m.content | trim }}{{ '<|eot_id|>' }}{% endfor %}`
    + `{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>${NL}${NL}' }}{% endif %}`,
  // Llama 2 chat: <s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] answer </s>
  llama2: `{% set st = namespace(sys='') %}{% for m in messages %}`
    + `{% if m.role == 'system' %}{% set st.sys = st.sys + '<<SYS>>${NL}' + (m.content | trim) + '${NL}<</SYS>>${NL}${NL}' %}`
    + `{% elif m.role == 'user' %}{{ bos_token + '[INST] ' + st.sys + (m.content | trim) + ' [/INST]' }}{% set st.sys = '' %}`
    + `{% else %}{{ ' ' + (m.content | trim) + ' ' + eos_token }}{% endif %}{% endfor %}`,
  // Phi-3 / Phi-3.5: <|role|>\ncontent<|end|>\n (an empty system message is left out)
  phi3: `{% for m in messages %}{% if m.role != 'system' or m.content %}`
    + `{{ '<|' + m.role + '|>${NL}' + m.content + '<|end|>${NL}' }}{% endif %}{% endfor %}`
    + `{% if add_generation_prompt %}{{ '<|assistant|>${NL}' }}{% else %}{{ eos_token }}{% endif %}`,
  // Mistral Instruct (v0.1-v0.2): <s>[INST] user [/INST]answer</s>
  mistral: `{{ bos_token }}{% set st = namespace(sys='') %}{% for m in messages %}`
    + `{% if m.role == 'system' %}{% set st.sys = st.sys + m.content + '${NL}${NL}' %}`
    + `{% elif m.role == 'user' %}{{ '[INST] ' + st.sys + m.content + ' [/INST]' }}{% set st.sys = '' %}`
    + `{% else %}{{ m.content + eos_token }}{% endif %}{% endfor %}`,
  // Gemma / Gemma 2: <start_of_turn>user|model\ntrimmed content<end_of_turn>\n, no system role
  gemma: `{{ bos_token }}{% set st = namespace(sys='') %}{% for m in messages %}`
    + `{% if m.role == 'system' %}{% set st.sys = st.sys + (m.content | trim) + '${NL}${NL}' %}`
    + `{% else %}{% if m.role == 'assistant' %}{{ '<start_of_turn>model${NL}' }}`
    + `{% else %}{{ '<start_of_turn>user${NL}' + st.sys }}{% set st.sys = '' %}{% endif %}`
    + `{{ (m.content | trim) + '<end_of_turn>${NL}' }}{% endif %}{% endfor %}`
    + `{% if add_generation_prompt %}{{ '<start_of_turn>model${NL}' }}{% endif %}`,
});

/** Special tokens whose presence in a vocabulary identifies its chat format (see chooseBuiltin). */
export const VOCAB_MARKERS = Object.freeze(['<|start_header_id|>', '<|im_start|>', '<start_of_turn>', '<|assistant|>', '[INST]']);

/** End-of-turn markers looked for in a template's source when its probe render says nothing. */
const KNOWN_END_MARKERS = Object.freeze(['<|im_end|>', '<|eot_id|>', '<|end|>', '<end_of_turn>', '<|END_OF_TURN_TOKEN|>',
  '<｜end▁of▁sentence｜>', '<|endoftext|>', '</s>']);

/** The first special-token-looking text: <|x|>, <｜x｜>, <x>, </x>, [X], [/X]. */
const MARKER_RE = /^(<\|[^<>|\s]{1,64}\|>|<｜[^<>｜\s]{1,64}｜>|<\/?[A-Za-z_][A-Za-z0-9_.:-]{0,63}>|\[\/?[A-Z_]{1,32}\])/;

/**
 * The built-in format for a model whose file has no chat template: by the vocabulary's special
 * tokens first (the most reliable), then the name, then the architecture. ChatML otherwise.
 * @param {{architecture?: string, name?: string, specials?: Iterable<string>}} facts specials:
 *   the VOCAB_MARKERS that are single special tokens of the model's vocabulary
 * @returns {string} a key of BUILTIN_TEMPLATES
 */
export function chooseBuiltin(facts) {
  const sp = new Set(facts.specials ?? []);
  const arch = (facts.architecture ?? '').toLowerCase();
  const name = (facts.name ?? '').toLowerCase();
  if (sp.has('<|start_header_id|>')) return 'llama3';
  if (sp.has('<|im_start|>')) return 'chatml';
  if (sp.has('<start_of_turn>')) return 'gemma';
  if (sp.has('<|assistant|>')) return 'phi3';
  if (sp.has('[INST]')) return 'mistral';
  if (arch.startsWith('phi3') || /phi[- ]?3/.test(name)) return 'phi3';
  if (arch.startsWith('gemma') || name.includes('gemma')) return 'gemma';
  if (arch.startsWith('qwen') || /qwen|smollm/.test(name)) return 'chatml';
  if (/llama[- ]?3/.test(name)) return 'llama3';
  if (/mistral|mixtral/.test(name)) return 'mistral';
  if (arch === 'llama') return 'llama2';
  return 'chatml';
}

/** @type {Map<string, Template>} compiled templates, most recently used last */
const compiled = new Map();

/** @param {string} source @returns {Template} */
function compile(source) {
  let t = compiled.get(source);
  if (t) {
    compiled.delete(source);
  } else {
    try {
      t = new Template(source);
    } catch (e) {
      throw new SmallMindError(`the chat template could not be parsed: ${/** @type {Error} */ (e).message}`, SM_ERR_INVALID_ARG, { cause: e });
    }
    if (compiled.size >= 16) compiled.delete(/** @type {string} */ (compiled.keys().next().value));
  }
  compiled.set(source, t);
  return t;
}

/**
 * @typedef {object} RenderOptions
 * @property {string} template a Jinja template or a key of BUILTIN_TEMPLATES
 * @property {string} [bosToken] the text of the vocabulary's BOS token ('' when unknown)
 * @property {string} [eosToken] the text of the vocabulary's EOS token
 * @property {boolean} [addGenerationPrompt] end with the assistant's turn header (default true)
 */

/**
 * @typedef {object} RenderedChat
 * @property {string} text the prompt as the template renders it
 * @property {PromptPart[]} parts the same text as template text (special) and contents (not)
 * @property {string[]} endMarkers texts that end an assistant turn in this format
 * @property {boolean} systemFolded the template refuses a system role: the system text was put
 *   at the start of the first user message
 * @property {boolean} separated false when the contents could not be told apart from the template
 *   text (a template that rewrites contents beyond recognition): everything is then one special
 *   part, as llama.cpp treats every prompt
 */

/**
 * Renders a chat.
 * @param {ChatMessage[]} messages
 * @param {RenderOptions & Record<string, unknown>} options other keys become template variables
 *   (e.g. tools, date_string)
 * @returns {RenderedChat}
 */
export function renderChat(messages, options) {
  const { template, bosToken = '', eosToken = '', addGenerationPrompt = true, ...extra } = options ?? /** @type {any} */ ({});
  if (typeof template !== 'string' || template === '') throw new TypeError('renderChat: options.template must be a Jinja template or a built-in format name');
  const source = Object.hasOwn(BUILTIN_TEMPLATES, template) ? BUILTIN_TEMPLATES[template] : template;
  let msgs = checkMessages(messages);
  const tmpl = compile(source);
  const vars = { ...extra, bos_token: bosToken, eos_token: eosToken, add_generation_prompt: addGenerationPrompt };
  /** @param {ChatMessage[]} m */
  const render = (m) => tmpl.render({ ...vars, messages: m.map((x) => ({ ...x })) });
  let text;
  let systemFolded = false;
  try {
    text = render(msgs);
  } catch (e) {
    // templates without a system role (Gemma, some Mistral ones) raise on one: retry with the
    // system text in the first user message, the usual practice for those models
    const folded = foldSystem(msgs);
    if (!folded) throw renderError(e);
    try {
      text = render(folded);
    } catch {
      throw renderError(e);
    }
    msgs = folded;
    systemFolded = true;
  }
  const split = splitContents(text, msgs, render);
  return {
    text,
    parts: split ?? [{ text, special: true }],
    endMarkers: endMarkers(source, render),
    systemFolded,
    separated: split !== null,
  };
}

/** @param {unknown} e */
function renderError(e) {
  return new SmallMindError(`the chat template failed on these messages: ${/** @type {Error} */ (e)?.message ?? e}`, SM_ERR_INVALID_ARG, { cause: e });
}

/**
 * System messages merged into the first user message (or into a user message of their own when
 * no user message follows), or null when there is none.
 * @param {ChatMessage[]} msgs @returns {ChatMessage[] | null}
 */
function foldSystem(msgs) {
  const system = msgs.filter((m) => m.role === 'system').map((m) => m.content);
  if (!system.length) return null;
  const prefix = system.join('\n\n');
  const rest = msgs.filter((m) => m.role !== 'system');
  const u = rest.findIndex((m) => m.role === 'user');
  if (u < 0) return [{ role: 'user', content: prefix }, ...rest];
  rest[u] = { role: 'user', content: rest[u].content ? `${prefix}\n\n${rest[u].content}` : prefix };
  return rest;
}

/**
 * Placeholders for message contents: private-use delimiters around a random tag, so neither a
 * template's text nor a user's can contain them by accident.
 * @param {ChatMessage[]} msgs
 */
function placeholders(msgs) {
  for (;;) {
    const tag = Math.random().toString(36).slice(2, 10);
    const open = `\uE000${tag}:`;
    if (msgs.some((m) => m.content.includes(open))) continue;
    return {
      /** @param {number} i */
      of: (i) => `${open}${i}\uE001`,
      re: new RegExp(`\uE000${tag}:(\\d+)\uE001`, 'g'),
    };
  }
}

/**
 * Splits the real render into template text and contents, or returns null when they cannot be
 * told apart.
 * @param {string} real @param {ChatMessage[]} msgs @param {(m: ChatMessage[]) => string} render
 * @returns {PromptPart[] | null}
 */
function splitContents(real, msgs, render) {
  const ph = placeholders(msgs);
  let marked;
  try {
    // an empty content has nothing to protect, and templates often test it (`if content`)
    marked = render(msgs.map((m, i) => ({ role: m.role, content: m.content === '' ? '' : ph.of(i) })));
  } catch {
    return null;
  }
  /** @type {string[]} template text between placeholders */
  const between = [];
  /** @type {number[]} message index of each placeholder */
  const which = [];
  let last = 0;
  for (const m of marked.matchAll(ph.re)) {
    between.push(marked.slice(last, m.index));
    which.push(Number(m[1]));
    last = /** @type {number} */ (m.index) + m[0].length;
  }
  between.push(marked.slice(last));
  if (which.some((i) => !(i < msgs.length))) return null;
  const contents = alignContents(real, between, which.map((i) => variants(msgs[i].content)));
  if (!contents) return null;
  /** @type {PromptPart[]} */
  const parts = [];
  /** @param {string} text @param {boolean} special */
  const add = (text, special) => {
    if (!text) return;
    const prev = parts[parts.length - 1];
    if (prev && prev.special === special) prev.text += text;
    else parts.push({ text, special });
  };
  for (let j = 0; j < contents.length; j++) {
    add(between[j], true);
    add(contents[j], false);
  }
  add(between[between.length - 1], true);
  return parts;
}

/** What templates commonly make of a content (`| trim` and friends). @param {string} c */
function variants(c) {
  return [...new Set([c, c.trim(), c.trimStart(), c.trimEnd()])];
}

/**
 * Finds the contents in `real` given the template text around them: real = T0 X0 T1 X1 … Tn.
 * Each Xj is tried as one of its expected variants first, then at every place where the next
 * template text occurs, backtracking when the rest does not fit.
 * @param {string} real @param {string[]} T template texts (n + 1) @param {string[][]} cands
 * @returns {string[] | null} X0..X(n-1)
 */
function alignContents(real, T, cands) {
  const n = T.length - 1;
  if (!real.startsWith(T[0])) return null;
  if (n === 0) return real === T[0] ? [] : null;
  /** @type {string[]} */
  const out = [];
  let budget = 20000;
  /** @param {number} j @param {number} pos @returns {boolean} */
  const place = (j, pos) => {
    if (--budget < 0) return false;
    const next = T[j + 1];
    if (j === n - 1) {
      const p = real.length - next.length;
      if (p < pos || !real.endsWith(next)) return false;
      out[j] = real.slice(pos, p);
      return true;
    }
    const tried = new Set();
    /** @param {number} p */
    const at = (p) => {
      if (tried.has(p) || !real.startsWith(next, p)) return false;
      tried.add(p);
      out[j] = real.slice(pos, p);
      return place(j + 1, p + next.length);
    };
    for (const c of cands[j]) if (real.startsWith(c, pos) && at(pos + c.length)) return true;
    if (next === '') return false;
    for (let p = real.indexOf(next, pos); p >= 0; p = real.indexOf(next, p + 1)) if (at(p)) return true;
    return false;
  };
  return place(0, T[0].length) ? out : null;
}

/**
 * The text that ends an assistant turn: what the template writes after an assistant message
 * (probed with a placeholder), as its first special-token-looking piece.
 * @param {string} source @param {(m: ChatMessage[]) => string} render
 * @returns {string[]}
 */
function endMarkers(source, render) {
  const ph = placeholders([]);
  const a = ph.of(1);
  /** @type {ChatMessage[][]} */
  const probes = [
    [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: a }],
    [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: a }, { role: 'user', content: 'Bye' }],
  ];
  for (const probe of probes) {
    let out;
    try {
      out = render(probe);
    } catch {
      continue;
    }
    const at = out.indexOf(a);
    if (at < 0) continue;
    const m = MARKER_RE.exec(out.slice(at + a.length).trimStart());
    if (m) return [m[1]];
  }
  const known = KNOWN_END_MARKERS.find((k) => source.includes(k));
  return known ? [known] : [];
}

/**
 * Everything chat() sends to the engine: the rendered prompt and the generate options with the
 * template's end markers added (as token ids where they are one special token, else as stop
 * strings; not with ignoreEos).
 * @param {object} a
 * @param {ChatMessage[]} a.messages checked
 * @param {string | undefined} a.chatTemplate the caller's option
 * @param {import('./model-info.js').ModelInfo} a.info
 * @param {(texts: string[]) => Promise<{ids: Record<string, number>, bos: string | null, eos: string | null}>} a.vocab
 *   ids of texts that are single tokens of the model's vocabulary (-1 otherwise), and BOS/EOS text
 * @param {Record<string, any>} a.options checked generate options (wire form)
 * @returns {Promise<{prompt: {parts: PromptPart[]}, options: Record<string, any>, rendered: RenderedChat}>}
 */
export async function prepareChat({ messages, chatTemplate, info, vocab, options }) {
  const v = await vocab([...VOCAB_MARKERS, ...KNOWN_END_MARKERS]);
  let template = chatTemplate ?? info.chatTemplate ?? null;
  if (!template) {
    const specials = VOCAB_MARKERS.filter((t) => (v.ids[t] ?? -1) >= 0);
    template = chooseBuiltin({ architecture: info.architecture, name: info.name, specials });
  }
  const rendered = renderChat(messages, { template, bosToken: v.bos ?? '', eosToken: v.eos ?? '' });
  const o = { ...options };
  if (!o.ignoreEos && rendered.endMarkers.length) {
    const missing = rendered.endMarkers.filter((t) => !Object.hasOwn(v.ids, t));
    const ids = missing.length ? { ...v.ids, ...(await vocab(missing)).ids } : v.ids;
    const tokens = rendered.endMarkers.map((t) => ids[t] ?? -1);
    const asText = rendered.endMarkers.filter((_, i) => tokens[i] < 0);
    const asIds = tokens.filter((t) => t >= 0);
    if (asIds.length) o.stopTokens = [...new Set([...(o.stopTokens ?? []), ...asIds])];
    if (asText.length) o.stop = [...new Set([...(o.stop ?? []), ...asText])];
  }
  return { prompt: { parts: rendered.parts }, options: o, rendered };
}

export { BUILTIN_TEMPLATE_NAMES };
