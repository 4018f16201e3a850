package io.fedtune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.RefusalReason;
import io.fedtune.trainer.aggregate.RoundFailed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** CONTRACT.md's lists of reasons and the contract's enums name the same reasons, in both directions. */
class ContractReasonsTest {
    private static final Pattern NAME = Pattern.compile("`([A-Z][A-Za-z]+)`");

    private static String contract() throws IOException {
        return Files.readString(Path.of("CONTRACT.md"));
    }

    /** The backticked CamelCase names between two markers of the text. */
    private static Set<String> names(String text, String from, String to) {
        int start = text.indexOf(from);
        assertThat(start).as("CONTRACT.md has \"" + from + "\"").isNotNegative();
        int end = text.indexOf(to, start + from.length());
        assertThat(end).as("CONTRACT.md has \"" + to + "\" after \"" + from + "\"").isPositive();
        Set<String> names = new LinkedHashSet<>();
        Matcher m = NAME.matcher(text.substring(start + from.length(), end));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static Set<String> trainerReasons(String text) {
        return names(text, "Trainer reasons:", "Aggregator reasons:");
    }

    private static Set<String> aggregatorReasons(String text) {
        return names(text, "Aggregator reasons:", "\n- ");
    }

    /** The operator's reasons table: each reason and whether its "permanent" column says yes. */
    private static java.util.Map<String, Boolean> operatorReasons(String text) {
        int start = text.indexOf("### Operator reasons");
        assertThat(start).as("CONTRACT.md has \"### Operator reasons\"").isNotNegative();
        java.util.Map<String, Boolean> reasons = new java.util.LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^\\| `([A-Z][A-Za-z]+)` \\| (yes|no) \\|").matcher(text.substring(start));
        while (m.find()) {
            reasons.put(m.group(1), m.group(2).equals("yes"));
        }
        return reasons;
    }

    private static Set<String> enumNames(Enum<?>[] values) {
        return Arrays.stream(values).map(Enum::name).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    @Test
    void everyDocumentedFailureReasonIsAFailureReason() throws IOException {
        String text = contract();
        Set<String> known = enumNames(FailureReason.values());
        assertThat(trainerReasons(text)).isNotEmpty().isSubsetOf(known);
        assertThat(aggregatorReasons(text)).isNotEmpty().isSubsetOf(known);
        assertThat(names(text, "A container that dies without a message", "retried")).containsExactly("ContainerFailed");
    }

    @Test
    void theServerRolesDocumentFailureReasonsOnly() throws IOException {
        String text = contract();
        Set<String> known = enumNames(FailureReason.values());
        assertThat(names(text, "Preparation reasons:", "\n\n")).contains("CheckpointInvalid").isSubsetOf(known);
        assertThat(names(text, "Publishing reasons:", "\n\n")).contains("InputTampered").isSubsetOf(known);
    }

    @Test
    void everyFailureReasonIsDocumented() throws IOException {
        String text = contract();
        Set<String> documented = new LinkedHashSet<>(trainerReasons(text));
        documented.addAll(aggregatorReasons(text));
        documented.addAll(operatorReasons(text).keySet());
        assertThat(documented).containsExactlyInAnyOrderElementsOf(enumNames(FailureReason.values()));
    }

    @Test
    void theOperatorsReasonsTableSaysWhichArePermanentAsTheEnumDoes() throws IOException {
        java.util.Map<String, Boolean> table = operatorReasons(contract());
        assertThat(table).isNotEmpty().containsKey("ContainerFailed");
        table.forEach((name, permanent) -> assertThat(FailureReason.valueOf(name).permanent()).as(name).isEqualTo(permanent));
    }

    @Test
    void refusalReasonsAreExactlyTheDocumentedOnes() throws IOException {
        Set<String> documented = names(contract(), "it is listed in `refused` with one of", "never averaged in");
        assertThat(documented).containsExactlyElementsOf(enumNames(RefusalReason.values()));
    }

    @Test
    void theTrainersOwnFailuresMapToDocumentedTrainerReasons() throws IOException {
        Set<String> trainer = trainerReasons(contract());
        for (Throwable e : new Throwable[] {new IllegalArgumentException("x"), new IOException("x"),
                new io.fedtune.trainer.model.CheckpointInvalidException("x"),
                new io.fedtune.trainer.data.TokenizerMismatchException("x"),
                new io.fedtune.trainer.adapter.AdapterMismatchException("x"),
                new io.fedtune.trainer.train.TrainingDivergedException("x"), io.fedtune.trainer.data.DataException.empty("x"),
                new io.fedtune.trainer.model.GpuUnavailableException("x"),
                new io.fedtune.trainer.storage.StorageException(io.fedtune.trainer.storage.StorageException.Kind.UNREACHABLE, "x", null),
                new io.fedtune.trainer.storage.StorageException(io.fedtune.trainer.storage.StorageException.Kind.ACCESS_DENIED, "x", null),
                new io.fedtune.trainer.storage.StorageException(io.fedtune.trainer.storage.StorageException.Kind.NOT_FOUND, "x", null)}) {
            assertThat(trainer).as(e.toString()).contains(Failure.of(e).reason().name());
        }
        for (FailureReason r : new FailureReason[] {FailureReason.InvalidTask, FailureReason.NoValidUpdates,
                FailureReason.GpuUnavailable}) {
            assertThat(aggregatorReasons(contract())).contains(Failure.of(new RoundFailed(r, "x")).reason().name());
        }
    }
}
