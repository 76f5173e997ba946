// The desk's one script: small enhancements over pages that work without it. htmx does the swapping.

// == copy buttons ==
// A button with data-copy-from="<input id>" copies that input's value; it stays hidden without this script (or
// without the clipboard API), where the read-only input is still there to select by hand. data-copied-message
// names the live region that says it worked.
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("[data-copy-from]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copyFrom);
      const status = document.getElementById(button.dataset.copiedMessage);
      try {
        await navigator.clipboard.writeText(input.value);
        if (status) status.textContent = "Copied.";
      } catch {
        input.select();
        if (status) status.textContent = "Select the address and copy it.";
      }
    });
  }
});
// == end copy buttons ==
