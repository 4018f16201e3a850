package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.operator.events.EventReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** operator/README.md says what the code does: one life-cycle row per RoundState with its stage and step, every Event reason. */
class RoundLifeCycleDocTest {
    private static final Pattern ROW = Pattern.compile("^\\| `(\\w+)` \\|[^|]*\\| ([^|]*) \\| `(\\w+)` \\|", Pattern.MULTILINE);
    private static final Pattern NAME = Pattern.compile("`(\\w+)`");

    private static String readme() throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("operator/README.md"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("operator/README.md above the working directory").isNotNull();
        return Files.readString(dir.resolve("operator/README.md"));
    }

    private static String section(String text, String heading) {
        int start = text.indexOf("\n" + heading + "\n");
        assertThat(start).as(heading).isNotNegative();
        int end = text.indexOf("\n## ", start + heading.length() + 2);
        return text.substring(start, end < 0 ? text.length() : end);
    }

    @Test
    void theLifeCycleTableHasOneRowPerRoundStateWithItsStageAndStep() throws IOException {
        String table = section(readme(), "## The round life cycle");
        Map<String, String[]> rows = new LinkedHashMap<>();
        Matcher m = ROW.matcher(table);
        while (m.find()) {
            rows.put(m.group(1), new String[] { m.group(2), m.group(3) });
        }
        assertThat(rows.keySet()).containsExactlyInAnyOrder(Arrays.stream(RoundState.Kind.values()).map(Enum::name).toArray(String[]::new));
        RoundSteps steps = new RoundSteps(new RoundWorld("doc", 1).actions);
        for (RoundState.Kind kind : RoundState.Kind.values()) {
            String[] row = rows.get(kind.name());
            if (kind != RoundState.Kind.InvalidSpec) {
                assertThat(row[0]).as("stage of " + kind).isEqualTo("`" + kind.stage() + "`");
            }
            assertThat(row[1]).as("step of " + kind).isEqualTo(stepOf(steps, kind));
        }
    }

    @Test
    void theEventsSectionNamesEveryEventReasonWithItsType() throws IOException {
        String events = section(readme(), "## Events");
        for (EventReason.Type type : EventReason.Type.values()) {
            int end = events.indexOf("(" + type + ")");
            int start = type == EventReason.Type.Normal ? 0 : events.indexOf("(Normal)");
            List<String> named = names(events.substring(start, end));
            assertThat(named).as(type + " Events").containsExactlyInAnyOrder(Arrays.stream(EventReason.values())
                    .filter(r -> r.type() == type).map(Enum::name).toArray(String[]::new));
        }
    }

    @Test
    void theConditionsTableNamesOnlyConditionReasonsAndTheNewOnes() throws IOException {
        String conditions = section(readme(), "## Conditions");
        String table = conditions.substring(conditions.indexOf("| type |"), conditions.indexOf("Every condition carries"));
        // the third column of each row: the reasons
        List<String> reasons = table.lines().filter(l -> l.startsWith("| `")).map(l -> l.split("\\|")[3])
                .flatMap(cell -> names(cell).stream()).toList();
        assertThat(reasons).allSatisfy(r -> assertThat(ConditionReason.of(r)).as(r).isPresent());
        assertThat(reasons).contains("Preparing", "PreparationRetryBackoff", "PreparationFailed", "Publishing",
                "PublishingRetryBackoff", "PublishingFailed");
    }

    private static String stepOf(RoundSteps steps, RoundState.Kind kind) {
        return steps.step(stateOf(kind)).getClass().getSimpleName();
    }

    private static RoundState stateOf(RoundState.Kind kind) {
        return switch (kind) {
            case InvalidSpec -> new RoundState.InvalidSpec(null, null, null);
            case Failed -> new RoundState.Failed(null, null);
            case Preparing -> new RoundState.Preparing(List.of());
            case Finished -> new RoundState.Finished(null, null);
            case Publishing -> new RoundState.Publishing(null, null, List.of());
            case Suspended -> new RoundState.Suspended(0);
            case BetweenRounds -> new RoundState.BetweenRounds(1);
            case Training -> new RoundState.Training(1, null);
            case Aggregating -> new RoundState.Aggregating(1, null, null);
        };
    }

    private static List<String> names(String text) {
        Matcher m = NAME.matcher(text);
        List<String> names = new java.util.ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}
