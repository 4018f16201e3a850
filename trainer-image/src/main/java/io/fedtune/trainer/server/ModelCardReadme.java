package io.fedtune.trainer.server;

import io.fedtune.api.contract.ModelCard;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The README.md published next to a run's final adapter: a Hugging Face style model card (YAML front matter, then how
 * the adapter was made, its evaluation, and how to load and serve it), from the task's {@link ModelCard}. It holds
 * names and figures only: no endpoint, credential or data.
 */
final class ModelCardReadme {
    static final String FILE = "README.md";

    private ModelCardReadme() {
    }

    /**
     * @param card        what the operator says about the run
     * @param round       the round whose global adapter this is
     * @param destination where it is published (s3:// prefix)
     */
    static String render(ModelCard card, int round, String destination) {
        StringBuilder md = new StringBuilder();
        md.append("---\n")
                .append("base_model: ").append(yaml(card.baseModel())).append('\n')
                .append("library_name: peft\n")
                .append("tags:\n- fedtune\n- lora\n- federated-learning\n")
                .append("---\n\n");
        md.append("# ").append(card.run()).append("\n\n");
        md.append("A LoRA adapter of `").append(card.baseModel()).append("` trained with fedtune, by federated fine-tuning: each "
                + "data owner trained on its own data in its own silo and shared only its adapter update, which the server "
                + "aggregated round by round. This is the global adapter of round ").append(round).append(", the best of the run.\n\n");

        md.append("## Training\n\n");
        md.append("- Base model: `").append(card.baseModel()).append("`\n");
        List<String> owners = card.dataOwners() == null ? List.of() : card.dataOwners();
        md.append("- Data owners (").append(owners.size()).append("): ")
                .append(owners.isEmpty() ? "not recorded" : String.join(", ", owners)).append('\n');
        md.append("- Rounds completed: ").append(card.rounds()).append('\n');
        md.append("- Aggregation strategy: ").append(card.strategy()).append('\n');
        md.append("- LoRA: rank ").append(card.rank()).append(", alpha ").append(number(card.alpha())).append(", target modules ")
                .append(card.targetModules() == null ? "" : String.join(", ", card.targetModules())).append('\n');
        md.append("- Differential privacy: ").append(card.epsilon() != null
                ? "(epsilon " + number(card.epsilon()) + ", delta " + number(card.delta()) + ") spent over the run"
                : card.delta() != null ? "on (delta " + number(card.delta()) + "), epsilon not reported" : "off").append("\n\n");

        md.append("## Evaluation\n\n");
        List<ModelCard.EvalRow> rows = card.evaluation() == null ? List.of() : card.evaluation();
        if (rows.isEmpty()) {
            md.append(card.evalMetric() != null ? "No global eval sets; rounds were ranked by the data owners' local " + card.evalMetric()
                    + " after training.\n\n" : "No evaluation was recorded.\n\n");
        } else {
            md.append("The global adapter of round ").append(round).append(" on each eval set").append(card.evalMetric() != null
                    ? "; the adapter was chosen by " + card.evalMetric() + " on the first (primary) set" : "").append(".\n\n");
            md.append("| set | task | metrics |\n|---|---|---|\n");
            for (ModelCard.EvalRow row : rows) {
                md.append("| ").append(row.set()).append(" | ").append(row.task() == null ? "" : row.task()).append(" | ")
                        .append(metrics(row.metrics())).append(" |\n");
            }
            md.append('\n');
        }

        String dir = "./" + card.run();
        md.append("## Usage\n\n");
        md.append("Copy the files under `").append(destination).append("` into a local directory, here `").append(dir)
                .append("`, and the base model's into `./base-model`.\n\n");
        md.append("With PEFT:\n\n```python\nfrom transformers import AutoModelForCausalLM\nfrom peft import PeftModel\n\n")
                .append("base = AutoModelForCausalLM.from_pretrained(\"./base-model\")\n")
                .append("model = PeftModel.from_pretrained(base, \"").append(dir).append("\")\n```\n\n");
        md.append("With vLLM:\n\n```sh\nvllm serve ./base-model --enable-lora --lora-modules ").append(card.run()).append('=').append(dir)
                .append(card.rank() > 16 ? " --max-lora-rank " + card.rank() : "").append("\n```\n\n");
        md.append("then ask for the model `").append(card.run()).append("`.\n");
        return md.toString();
    }

    private static String metrics(Map<String, Double> metrics) {
        if (metrics == null || metrics.isEmpty()) {
            return "";
        }
        StringBuilder s = new StringBuilder();
        metrics.forEach((name, value) -> s.append(s.isEmpty() ? "" : ", ").append(name).append(' ')
                .append(value == null ? "n/a" : String.format(Locale.ROOT, "%.4f", value)));
        return s.toString();
    }

    private static String number(Double value) {
        if (value == null) {
            return "n/a";
        }
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? String.valueOf(value.longValue()) : String.valueOf(value);
    }

    /** A YAML double-quoted scalar. */
    private static String yaml(String value) {
        return value == null ? "null" : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
