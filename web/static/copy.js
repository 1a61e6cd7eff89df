// copy.js: a button with data-copy="ID" copies the value (or text) of the element with that id
// to the clipboard and says so in the element with data-copy-status="ID".
const say = (id, text) => {
  const s = document.querySelector(`[data-copy-status="${CSS.escape(id)}"]`);
  if (s) s.textContent = text;
};

for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    const id = button.dataset.copy;
    const source = document.getElementById(id);
    if (!source) return;
    const text = "value" in source ? source.value : source.textContent;
    try {
      await navigator.clipboard.writeText(text);
      say(id, "Copied.");
    } catch {
      if (typeof source.select === "function") source.select();
      say(id, "Copying failed: the text is selected, copy it with your keyboard.");
    }
  });
}
