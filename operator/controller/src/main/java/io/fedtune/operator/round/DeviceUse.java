package io.fedtune.operator.round;

import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.RoundSummary;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which device and precision a round's pods reported, and their use of the model cache, in the few words status keeps.
 * The values come from any image's termination message, so each is cut to a short word and the kinds are capped.
 */
public final class DeviceUse {
    static final String HIT = "hit";
    static final String MISS = "miss";
    private static final Pattern WORD = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:+-]{0,15}");

    private DeviceUse() {
    }

    /** A reported value as status keeps it: itself when a short word, "invalid" otherwise, null when absent. */
    public static String word(String reported) {
        if (reported == null || reported.isEmpty()) {
            return null;
        }
        return WORD.matcher(reported).matches() ? reported : "invalid";
    }

    /** "gpu/BF16", or the one part reported; null when neither is. */
    public static String of(String device, String precision) {
        String d = word(device);
        String p = word(precision);
        return d == null ? p : p == null ? d : d + "/" + p;
    }

    /**
     * "gpu/BF16 x3, cpu/FP32 x1": the trainers counted per device/precision, most first, at most
     * {@link RoundSummary#DEVICE_GROUPS_LIMIT} kinds and then "other x<n>"; null when none reported either.
     */
    public static String trainers(Collection<TrainResult> trained) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        boolean reported = false;
        for (TrainResult t : trained) {
            String kind = of(t.device(), t.precision());
            reported |= kind != null;
            counts.merge(kind != null ? kind : "unreported", 1, Integer::sum);
        }
        if (!reported) {
            return null;
        }
        List<Map.Entry<String, Integer>> kinds = new ArrayList<>(counts.entrySet());
        kinds.sort(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
        List<String> parts = new ArrayList<>();
        int other = 0;
        for (int i = 0; i < kinds.size(); i++) {
            if (i < RoundSummary.DEVICE_GROUPS_LIMIT) {
                parts.add(kinds.get(i).getKey() + " x" + kinds.get(i).getValue());
            } else {
                other += kinds.get(i).getValue();
            }
        }
        if (other > 0) {
            parts.add("other x" + other);
        }
        return String.join(", ", parts);
    }

    /** Fills the summary's trainerDevices and cache counts (both counts, or neither when no trainer used a cache). */
    public static void count(RoundSummary summary, Collection<TrainResult> trained) {
        summary.trainerDevices = trainers(trained);
        int hits = (int) trained.stream().filter(t -> HIT.equals(t.cache())).count();
        int misses = (int) trained.stream().filter(t -> MISS.equals(t.cache())).count();
        summary.cacheHits = hits + misses > 0 ? hits : null;
        summary.cacheMisses = hits + misses > 0 ? misses : null;
    }
}
