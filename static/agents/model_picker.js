// The agent form's model picker: filter the catalogue by words, pick to fill the field.
document.addEventListener("DOMContentLoaded", () => {
  for (const picker of document.querySelectorAll(".model-picker")) {
    const target = document.getElementById(picker.dataset.target);
    const search = picker.querySelector("input[type=search]");
    const select = picker.querySelector("select");
    const words = (text) => text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
    search.addEventListener("input", () => {
      const wanted = words(search.value);
      for (const option of select.options) {
        const tokens = words(option.value);
        option.hidden = !wanted.every((w) => tokens.some((t) => t.startsWith(w)));
      }
      for (const group of select.querySelectorAll("optgroup")) {
        group.hidden = ![...group.children].some((option) => !option.hidden);
      }
    });
    select.addEventListener("change", () => {
      if (!target || !select.value) return;
      if (picker.dataset.append === "true") {
        const lines = target.value.split("\n").map((line) => line.trim()).filter(Boolean);
        if (!lines.includes(select.value)) lines.push(select.value);
        target.value = lines.join("\n");
      } else {
        target.value = select.value;
      }
    });
  }
});
