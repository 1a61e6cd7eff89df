// Copy buttons: a <button data-copy="ID"> copies the text of the element with that id to the
// clipboard and says so in the element named by its data-copy-status (a live region). No inline
// script: this module is loaded from the page's head.
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.addEventListener('click', async () => {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copyStatus || '');
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent);
      if (status) status.textContent = 'Copied.';
    } catch {
      if (status) status.textContent = 'Copying failed: select the code and copy it by hand.';
    }
  });
}
