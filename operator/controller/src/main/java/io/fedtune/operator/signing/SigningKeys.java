package io.fedtune.operator.signing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A signing credential as the chart mounts it: files {@code access-key-id}, {@code secret-access-key} and optionally
 * {@code session-token} in one directory. Read at each signing, so a rotated Secret is picked up; never printed.
 */
final class SigningKeys {
    static final String ACCESS_KEY_ID = "access-key-id";
    static final String SECRET_ACCESS_KEY = "secret-access-key";
    static final String SESSION_TOKEN = "session-token";

    final String accessKeyId;
    final String secretAccessKey;
    final String sessionToken;

    SigningKeys(String accessKeyId, String secretAccessKey, String sessionToken) {
        this.accessKeyId = accessKeyId;
        this.secretAccessKey = secretAccessKey;
        this.sessionToken = sessionToken;
    }

    static SigningKeys read(Path dir) {
        return new SigningKeys(required(dir, ACCESS_KEY_ID), required(dir, SECRET_ACCESS_KEY), optional(dir, SESSION_TOKEN));
    }

    private static String required(Path dir, String name) {
        String value = optional(dir, name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("the storage signer's file " + dir.resolve(name) + " is missing or empty: "
                    + "check the chart's storageSigners Secret and its keys");
        }
        return value;
    }

    private static String optional(Path dir, String name) {
        try {
            return Files.readString(dir.resolve(name)).strip();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            // the message names the file only: the exception text never carries its content
            throw new UncheckedIOException("cannot read the storage signer's file " + dir.resolve(name), e);
        }
    }

    @Override
    public String toString() {
        return "SigningKeys[" + accessKeyId + ", secret redacted]";
    }
}
