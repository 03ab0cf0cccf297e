import { busy, errorBox, field, h, replaceChildren } from './dom.js';

/**
 * A modal <dialog>: the browser traps focus, Escape closes it and it gets
 * removed afterwards. `build(close)` returns the dialog's content.
 * Focus goes back to `returnTo` when it still exists, else to `fallback`.
 */
export function openDialog({ title, returnTo, fallback, build }) {
  const headingId = `dialog-${Math.random().toString(36).slice(2)}`;
  const dialog = h('dialog', { 'aria-labelledby': headingId, class: 'dialog' });
  const close = () => dialog.close();
  dialog.addEventListener('close', () => {
    dialog.remove();
    const target = returnTo?.isConnected ? returnTo : fallback;
    target?.focus();
  });
  replaceChildren(dialog, h('h2', { id: headingId }, title), build(close));
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** A form dialog with one text field; `submit(value)` may throw an API error, shown inside. */
export function promptDialog({ title, label, value = '', hint, submitLabel, danger = false, mustEqual, intro, returnTo, fallback, submit }) {
  return openDialog({
    title,
    returnTo,
    fallback,
    build: (close) => {
      const { wrapper, input } = field(label, { name: 'value', value, required: true, autocomplete: 'off', spellcheck: 'false' }, hint);
      const problem = h('div');
      const confirm = h('button', { type: 'submit', class: danger ? 'danger' : 'primary', disabled: mustEqual !== undefined }, submitLabel);
      if (mustEqual !== undefined) {
        input.addEventListener('input', () => {
          confirm.disabled = input.value !== mustEqual;
        });
      }
      const form = h(
        'form',
        {
          onsubmit: async (event) => {
            event.preventDefault();
            if (mustEqual !== undefined && input.value !== mustEqual) return;
            await busy(confirm, async () => {
              try {
                await submit(input.value.trim());
                close();
              } catch (error) {
                replaceChildren(problem, errorBox(error));
                input.focus();
              }
            });
            if (mustEqual !== undefined) confirm.disabled = input.value !== mustEqual;
          },
        },
        intro,
        wrapper,
        problem,
        h('div', { class: 'actions' }, confirm, h('button', { type: 'button', onclick: close }, 'Cancel')),
      );
      queueMicrotask(() => {
        input.focus();
        input.select();
      });
      return form;
    },
  });
}
