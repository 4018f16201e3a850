package io.fedtune.trainer.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.trainer.data.ChatTemplate;
import io.fedtune.trainer.generate.Completion;
import io.fedtune.trainer.generate.Decoder;
import io.fedtune.trainer.generate.EosTokens;
import io.fedtune.trainer.generate.PromptFraming;
import io.fedtune.trainer.generate.Prompts;
import io.fedtune.trainer.generate.Sampling;
import io.fedtune.trainer.generate.StopRule;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.LoraArrays;
import io.fedtune.trainer.storage.StorageSession;
import io.fedtune.trainer.train.LoraParameters;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Complete prompts with a base model, with or without an adapter; one JSON line per prompt on stdout:",
                "prompt, completion, tokens (generated, a final EOS included), stopReason (eos, stop_string, max_new_tokens, context_length).",
                "Greedy unless --temperature or --top-p is given. Each prompt is framed like training text: the tokenizer's BOS (if it adds one), then the prompt's tokens;",
                "with --chat, as one user turn of the checkpoint's chat template with its generation prompt, ending at the EOS ids or the template's end-of-turn token."})
final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Option(names = "--prompt", description = "a prompt (repeatable)") List<String> prompts = new ArrayList<>();
    @Option(names = "--prompts", description = "JSONL with a string \"prompt\" per line (local or s3://), after any --prompt") String promptsFile;
    @Option(names = "--max-new-tokens", defaultValue = "64") int maxNewTokens;
    @Option(names = "--temperature", description = "sampling temperature; 0 is greedy (default 0, or 1 when --top-p is given)") Double temperature;
    @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling: keep the most likely tokens up to this probability") double topP;
    @Option(names = "--seed", defaultValue = "0", description = "sampling seed; prompt i draws from a generator seeded by (seed, i)") long seed;
    @Option(names = "--stop", description = "stop when the completion contains this string, which is cut off (repeatable)") List<String> stops = new ArrayList<>();
    @Option(names = "--no-cache", description = "recompute the whole sequence every step instead of using the KV cache") boolean noCache;
    @Option(names = "--chat", description = "render each prompt as one user turn with the checkpoint's chat template "
            + "(tokenizer_config.json chat_template) and add_generation_prompt; stop at its end-of-turn token too") boolean chat;

    @Override
    public Integer call() {
        ObjectMapper json = new ObjectMapper();
        Environment env = Environment.system();
        try (StorageSession storage = env.session()) {
            Sampling sampling = new Sampling(temperature != null ? temperature : topP < 1 ? 1.0 : 0.0, topP, seed);
            List<String> all = new ArrayList<>(prompts);
            if (promptsFile != null) {
                all.addAll(Prompts.read(storage.fetch(promptsFile)));
            }
            if (all.isEmpty()) {
                throw new IllegalArgumentException("give --prompt TEXT or --prompts FILE");
            }
            try (BaseModel model = modelOptions.open(storage, env)) {
                Set<Integer> eos = EosTokens.of(model.checkpoint().dir());
                PromptFraming framing = chat
                        ? PromptFraming.chat(model.tokenizer(), model.requireChatTemplate("generate --chat renders each prompt",
                                "or drop --chat"), eos)
                        : PromptFraming.text(model.tokenizer(), model.bos(), eos);
                LoraParameters adapter = modelOptions.adapter(storage, model);
                complete(json, all, model, adapter, sampling, framing);
            }
            return 0;
        } catch (Exception e) {
            return Failure.of(e).report("generate");
        }
    }

    /** The adapter is read and checked before the base weights are loaded (BaseModel loads them on first use). */
    private void complete(ObjectMapper json, List<String> all, BaseModel model, LoraParameters adapter, Sampling sampling,
                          PromptFraming framing) throws IOException {
        try (NDManager arrays = model.model().manager().newSubManager()) {
            LoraArrays lora = adapter == null ? null : adapter.arrays(arrays, false, false);
            StopRule stop = new StopRule(maxNewTokens, framing.stopIds(), stops, model.tokenizer()::decode);
            Decoder decoder = new Decoder(model.model(), lora, noCache ? Decoder.Mode.RECOMPUTE : Decoder.Mode.CACHED);
            for (int i = 0; i < all.size(); i++) {
                int[] ids;
                try {
                    ids = framing.ids(all.get(i));
                } catch (ChatTemplate.RenderFailed e) {
                    throw new IllegalArgumentException("prompt " + i + ": " + e.getMessage(), e);
                }
                Completion c = decoder.run(ids, sampling, sampling.random(i), stop);
                ObjectNode out = json.createObjectNode();
                out.put("prompt", all.get(i));
                out.put("completion", c.text());
                out.put("tokens", c.tokens().length);
                out.put("stopReason", c.stopReason().label());
                System.out.println(out);
            }
        }
    }
}
