package io.fedtune.local;

import java.io.IOException;

/** A silo local mode will not use: its port is taken, or the server there is not the one it started. */
public final class SiloRefused extends IOException {
    public SiloRefused(String message) {
        super(message);
    }
}
