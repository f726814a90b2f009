// chat-messages.js — checks chat() input at the call site: the messages and the chatTemplate
// option. Small and free of the Jinja engine, which chat.js loads only when a chat is rendered.

/** @typedef {{role: 'system' | 'user' | 'assistant', content: string}} ChatMessage */

export const CHAT_ROLES = Object.freeze(['system', 'user', 'assistant']);

/** Names of the built-in chat formats (chat.js has their templates). */
export const BUILTIN_TEMPLATE_NAMES = Object.freeze(['llama3', 'llama2', 'phi3', 'chatml', 'mistral', 'gemma']);

/** @param {unknown} v */
function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  return typeof v;
}

/**
 * @param {unknown} messages
 * @returns {ChatMessage[]} copies holding only role and content
 */
export function checkMessages(messages) {
  if (!Array.isArray(messages)) {
    throw new TypeError(`chat messages must be an array of {role, content} objects, got ${describe(messages)}`);
  }
  if (messages.length === 0) throw new TypeError('chat needs at least one message');
  return messages.map((m, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      throw new TypeError(`messages[${i}] must be an object {role, content}, got ${describe(m)}`);
    }
    if (!CHAT_ROLES.includes(m.role)) {
      throw new TypeError(`messages[${i}].role must be 'system', 'user' or 'assistant', got ${describe(m.role)}`);
    }
    if (typeof m.content !== 'string') {
      throw new TypeError(`messages[${i}].content must be a string, got ${describe(m.content)}`);
    }
    return { role: m.role, content: m.content };
  });
}

/**
 * @param {unknown} t the chatTemplate option: a Jinja template or a built-in format's name
 * @returns {string | undefined}
 */
export function checkChatTemplate(t) {
  if (t === undefined) return undefined;
  if (typeof t !== 'string' || t.trim() === '') {
    throw new TypeError(`option 'chatTemplate' must be a Jinja template or one of ${BUILTIN_TEMPLATE_NAMES.join(', ')}, got ${describe(t)}`);
  }
  // a template always has a {{ }} or {% %} tag; anything else is meant as a name
  if (!/{[{%]/.test(t) && !BUILTIN_TEMPLATE_NAMES.includes(t)) {
    throw new TypeError(`option 'chatTemplate': unknown built-in format '${t}' (known: ${BUILTIN_TEMPLATE_NAMES.join(', ')}), and not a Jinja template`);
  }
  return t;
}
