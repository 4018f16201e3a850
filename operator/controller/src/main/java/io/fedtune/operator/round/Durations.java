package io.fedtune.operator.round;

import io.fedtune.api.v1alpha1.ParticipationSpec;
import io.fedtune.operator.pods.PodStart;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as the CRD writes them: one or more of <n>ms, <n>s, <n>m, <n>h (e.g. 1h30m, 90s). */
public final class Durations {
    private static final Pattern PART = Pattern.compile("([0-9]+)(ms|s|m|h)");

    /** What an API server with an older CRD (no schema default for spec.participation.startTimeout) leaves out. */
    public static final String DEFAULT_START_TIMEOUT = "10m";

    private Durations() {
    }

    /**
     * How long a pod rides out a storage outage (spec.participation.storageRetryTimeout, FEDTUNE_STORAGE_RETRY_SECONDS):
     * the field, else {@link ParticipationSpec#DEFAULT_STORAGE_RETRY_TIMEOUT}, never past the round timeout.
     */
    public static Duration storageRetryTimeout(ParticipationSpec participation) {
        Duration retry = parse(participation.storageRetryTimeout != null ? participation.storageRetryTimeout
                : ParticipationSpec.DEFAULT_STORAGE_RETRY_TIMEOUT);
        Duration round = parse(participation.roundTimeout != null ? participation.roundTimeout : "30m");
        return retry.compareTo(round) <= 0 ? retry : round;
    }

    /** How long pods of the run may take to start (spec.participation.startTimeout). */
    public static PodStart podStart(String startTimeout) {
        String written = startTimeout != null ? startTimeout : DEFAULT_START_TIMEOUT;
        return new PodStart(parse(written), written);
    }

    public static Duration parse(String text) {
        Matcher m = PART.matcher(text);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                throw new IllegalArgumentException("not a duration: " + text);
            }
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            });
            end = m.end();
        }
        if (end != text.length() || end == 0) {
            throw new IllegalArgumentException("not a duration: " + text);
        }
        return total;
    }
}
