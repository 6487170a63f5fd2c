// A small form generated from a JSON Schema: what a suspended tool asks for to resume.
// Objects with flat properties get one field each (text, number, checkbox, a select for an
// enum); anything else is edited as JSON. `read()` returns the value or throws a message.

function field(name, schema, required) {
  const wrap = document.createElement("label");
  wrap.className = "schema-field";
  const title = document.createElement("span");
  title.textContent = `${schema.title || name}${required ? " *" : ""}`;
  let input;
  if (Array.isArray(schema.enum)) {
    input = document.createElement("select");
    if (!required) input.append(new Option("", ""));
    for (const option of schema.enum) input.append(new Option(String(option), JSON.stringify(option)));
  } else if (schema.type === "boolean") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = schema.default === true;
  } else {
    input = document.createElement("input");
    input.type = schema.type === "number" || schema.type === "integer" ? "number" : "text";
    if (schema.type === "integer") input.step = "1";
    if (schema.default !== undefined) input.value = String(schema.default);
  }
  input.name = name;
  input.required = required && schema.type !== "boolean";
  wrap.append(title, input);
  if (schema.description) {
    const hint = document.createElement("small");
    hint.className = "muted";
    hint.textContent = schema.description;
    wrap.append(hint);
  }
  const read = () => {
    if (Array.isArray(schema.enum)) return input.value === "" ? undefined : JSON.parse(input.value);
    if (schema.type === "boolean") return input.checked;
    if (input.value === "") return undefined;
    if (schema.type === "number" || schema.type === "integer") return Number(input.value);
    return input.value;
  };
  return { element: wrap, read };
}

function isFlat(schema) {
  if (schema?.type !== "object" || typeof schema.properties !== "object") return false;
  return Object.values(schema.properties).every(
    (p) => Array.isArray(p.enum) || ["string", "number", "integer", "boolean"].includes(p.type),
  );
}

export function schemaForm(schema) {
  const container = document.createElement("div");
  container.className = "schema-form";
  if (isFlat(schema)) {
    const required = new Set(schema.required || []);
    const fields = Object.entries(schema.properties).map(([name, prop]) => [
      name,
      field(name, prop, required.has(name)),
    ]);
    container.append(...fields.map(([, f]) => f.element));
    const read = () => {
      const value = {};
      for (const [name, f] of fields) {
        const v = f.read();
        if (v === undefined) {
          if (required.has(name)) throw new Error(`${name} is required.`);
        } else value[name] = v;
      }
      return value;
    };
    return { element: container, read };
  }
  const label = document.createElement("label");
  label.className = "schema-field";
  const title = document.createElement("span");
  title.textContent = "Reply (JSON)";
  const text = document.createElement("textarea");
  text.rows = 4;
  text.spellcheck = false;
  label.append(title, text);
  container.append(label);
  const read = () => {
    try {
      return JSON.parse(text.value);
    } catch {
      throw new Error("The reply is not valid JSON.");
    }
  };
  return { element: container, read };
}
