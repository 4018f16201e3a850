package io.fedtune.operator.shard;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.ParticipationSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which shards a run may use and which of them take part in a round. Sampling ranks each shard by a hash of
 * (training.seed, round, shard name): the same inputs give the same shards after a restart, and adding a shard
 * does not reshuffle the others.
 */
public final class ShardSelection {

    public record Eligibility(List<ClientShard> eligible, int paused) {
    }

    private ShardSelection() {
    }

    public static Eligibility eligible(FederatedRun run, Collection<ClientShard> shards) {
        LabelSelector selector = run.getSpec().participation.shardSelector;
        String ns = run.getMetadata().getNamespace();
        List<ClientShard> matching = shards.stream()
                .filter(s -> ns.equals(s.getMetadata().getNamespace()))
                .filter(s -> s.getMetadata().getDeletionTimestamp() == null)
                .filter(s -> matches(selector, s.getMetadata().getLabels()))
                .sorted(Comparator.comparing(s -> s.getMetadata().getName()))
                .toList();
        List<ClientShard> active = matching.stream().filter(s -> !Boolean.TRUE.equals(s.getSpec().paused)).toList();
        return new Eligibility(active, matching.size() - active.size());
    }

    /** The names of the shards that take part in {@code round}, sorted. */
    public static List<String> sample(List<String> eligible, ParticipationSpec participation, long seed, int round) {
        if (eligible.isEmpty()) {
            return List.of();
        }
        int count = (int) Math.max(1, Math.ceil(participation.fraction * eligible.size() - 1e-9));
        if (participation.maxShardsPerRound != null) {
            count = Math.min(count, participation.maxShardsPerRound);
        }
        count = Math.min(count, eligible.size());
        return eligible.stream()
                .sorted(Comparator.comparingLong((String name) -> rank(seed, round, name)).thenComparing(n -> n))
                .limit(count)
                .sorted()
                .toList();
    }

    static boolean matches(LabelSelector selector, Map<String, String> labels) {
        Map<String, String> have = labels == null ? Map.of() : labels;
        if (selector == null) {
            return true;
        }
        if (selector.getMatchLabels() != null
                && !selector.getMatchLabels().entrySet().stream().allMatch(e -> Objects.equals(have.get(e.getKey()), e.getValue()))) {
            return false;
        }
        if (selector.getMatchExpressions() != null) {
            for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                String value = have.get(r.getKey());
                List<String> values = r.getValues() == null ? List.of() : r.getValues();
                boolean ok = switch (r.getOperator()) {
                    case "In" -> value != null && values.contains(value);
                    case "NotIn" -> value == null || !values.contains(value);
                    case "Exists" -> have.containsKey(r.getKey());
                    case "DoesNotExist" -> !have.containsKey(r.getKey());
                    default -> false;
                };
                if (!ok) {
                    return false;
                }
            }
        }
        return true;
    }

    private static long rank(long seed, int round, String name) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(ByteBuffer.allocate(12).putLong(seed).putInt(round).array());
            sha.update(name.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(sha.digest()).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
