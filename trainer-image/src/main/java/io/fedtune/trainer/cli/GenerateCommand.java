package io.fedtune.trainer.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.trainer.generate.Completion;
import io.fedtune.trainer.generate.Decoder;
import io.fedtune.trainer.generate.EosTokens;
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
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Complete prompts with a base model, with or without an adapter; one JSON line per prompt on stdout:",
                "prompt, completion, tokens (generated, a final EOS included), stopReason (eos, stop_string, max_new_tokens, context_length).",
                "Greedy unless --temperature or --top-p is given. Each prompt is framed like training text: the model's BOS, then the prompt's tokens."})
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
    @Option(names = "--chat", description = "render prompts with the checkpoint's chat template (not supported yet, issue 10)") boolean chat;

    @Override
    public Integer call() {
        ObjectMapper json = new ObjectMapper();
        Environment env = Environment.system();
        try (StorageSession storage = env.session()) {
            if (chat) {
                throw new IllegalArgumentException("--chat is not supported yet: a checkpoint's chat template is Jinja, "
                        + "and rendering it needs the Jinja library of issue 10");
            }
            Sampling sampling = new Sampling(temperature != null ? temperature : topP < 1 ? 1.0 : 0.0, topP, seed);
            List<String> all = new ArrayList<>(prompts);
            if (promptsFile != null) {
                all.addAll(Prompts.read(storage.fetch(promptsFile)));
            }
            if (all.isEmpty()) {
                throw new IllegalArgumentException("give --prompt TEXT or --prompts FILE");
            }
            try (BaseModel model = modelOptions.open(storage, env)) {
                LoraParameters adapter = modelOptions.adapter(storage, model);
                complete(json, all, model, adapter, sampling);
            }
            return 0;
        } catch (Exception e) {
            return Failure.of(e).report("generate");
        }
    }

    /** The adapter is read and checked before the base weights are loaded (BaseModel loads them on first use). */
    private void complete(ObjectMapper json, List<String> all, BaseModel model, LoraParameters adapter, Sampling sampling)
            throws IOException {
        try (NDManager arrays = model.model().manager().newSubManager()) {
            LoraArrays lora = adapter == null ? null : adapter.arrays(arrays, false, false);
            StopRule stop = new StopRule(maxNewTokens, EosTokens.of(model.checkpoint().dir()), stops, model.tokenizer()::decode);
            Decoder decoder = new Decoder(model.model(), lora, noCache ? Decoder.Mode.RECOMPUTE : Decoder.Mode.CACHED);
            for (int i = 0; i < all.size(); i++) {
                Completion c = decoder.run(promptIds(model, all.get(i)), sampling, sampling.random(i), stop);
                ObjectNode out = json.createObjectNode();
                out.put("prompt", all.get(i));
                out.put("completion", c.text());
                out.put("tokens", c.tokens().length);
                out.put("stopReason", c.stopReason().label());
                System.out.println(out);
            }
        }
    }

    private static int[] promptIds(BaseModel model, String prompt) {
        int[] text = model.tokenizer().encode(prompt);
        Integer bos = model.config().bosTokenId();
        if (bos == null) {
            return text;
        }
        int[] ids = new int[text.length + 1];
        ids[0] = bos;
        System.arraycopy(text, 0, ids, 1, text.length);
        return ids;
    }
}
