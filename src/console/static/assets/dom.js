/**
 * h('button', {type: 'button', onclick: fn, class: 'x'}, 'Label', child, [more])
 * Children that are strings become text nodes, so nothing from the API is parsed as HTML.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name in el && typeof value !== 'string') el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

let statusTimer;
/** Polite announcement in the shared live region (also visible as a toast). */
export function announce(message) {
  const status = document.getElementById('status');
  clearTimeout(statusTimer);
  status.textContent = '';
  // A fresh text node after a tick so screen readers repeat an identical message.
  requestAnimationFrame(() => {
    status.textContent = message;
    status.classList.add('visible');
  });
  statusTimer = setTimeout(() => status.classList.remove('visible'), 6000);
}

/** An inline error box that screen readers announce at once. */
export function errorBox(error) {
  return h('p', { class: 'error', role: 'alert' }, error?.message ?? String(error));
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled input; returns the wrapper and the input. */
export function field(label, inputAttrs = {}, hint) {
  const id = inputAttrs.id ?? nextId('f');
  const hintId = hint ? `${id}-hint` : undefined;
  const input = h(inputAttrs.tag ?? 'input', { ...inputAttrs, tag: undefined, id, 'aria-describedby': hintId ?? inputAttrs['aria-describedby'] });
  const wrapper = h('div', { class: 'field' }, h('label', { for: id }, label), input, hint && h('p', { class: 'hint', id: hintId }, hint));
  return { wrapper, input };
}

/** A button that is disabled and labelled busy while `work` runs. */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
