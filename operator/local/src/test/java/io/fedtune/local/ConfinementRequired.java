package io.fedtune.local;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/** Tests that need pods confined: skipped on a machine without bubblewrap, failed in CI (CI=true), which must have it. */
final class ConfinementRequired {
    private ConfinementRequired() {
    }

    static void check(Confinement confinement) {
        if (confinement.confines()) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("CI must run pods confined, as a cluster would: " + confinement.describe());
        }
        Assumptions.abort("pods cannot be confined here: " + confinement.describe());
    }
}
