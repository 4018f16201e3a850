package io.fedtune.operator.pods;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic pod names: the name is the idempotency key of each attempt (trainer, aggregation, preparation, publishing), so a
 * restarted operator that tries to create the same pod gets AlreadyExists instead of a second pod.
 */
public final class PodNames {
    static final int MAX_LENGTH = 63;
    private static final int HASH_LENGTH = 8;

    private PodNames() {
    }

    public static String trainer(String run, int round, String shard, int attempt) {
        return fit(run + "-r" + round + "-" + shard + "-a" + attempt);
    }

    public static String aggregator(String run, int round, int attempt) {
        return fit(run + "-r" + round + "-agg-a" + attempt);
    }

    /** The run's preparation (before round 1: no round in the name). */
    public static String preparer(String run, int attempt) {
        return fit(run + "-prepare-a" + attempt);
    }

    /** Publishing the best adapter, which the round named wrote. */
    public static String publisher(String run, int round, int attempt) {
        return fit(run + "-r" + round + "-publish-a" + attempt);
    }

    /** Long names keep their head and get a hash of the whole name, so two long names never collide on truncation. */
    static String fit(String name) {
        if (name.length() <= MAX_LENGTH) {
            return name;
        }
        String head = name.substring(0, MAX_LENGTH - HASH_LENGTH - 1).replaceAll("[-.]+$", "");
        return head + "-" + sha256(name).substring(0, HASH_LENGTH);
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
