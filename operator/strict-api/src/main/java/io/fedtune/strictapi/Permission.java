package io.fedtune.strictapi;

import java.util.Comparator;

/**
 * One thing a role can grant: a verb on a resource (or resource/subresource) of an API group ("" is the core group).
 */
public record Permission(String verb, String apiGroup, String resource) implements Comparable<Permission> {
    private static final Comparator<Permission> ORDER = Comparator.comparing(Permission::apiGroup)
            .thenComparing(Permission::resource).thenComparing(Permission::verb);

    /** Parses {@link #toString()}: "verb resource" (core group) or "verb resource.group", e.g. "patch federatedruns.fedtune.io". */
    public static Permission parse(String line) {
        String[] parts = line.trim().split("\\s+");
        if (parts.length != 2) {
            throw new IllegalArgumentException("not 'verb resource[.group]': " + line);
        }
        String target = parts[1];
        int slash = target.indexOf('/');
        String head = slash < 0 ? target : target.substring(0, slash);
        String sub = slash < 0 ? "" : target.substring(slash);
        int dot = head.indexOf('.');
        return dot < 0 ? new Permission(parts[0], "", head + sub)
                : new Permission(parts[0], head.substring(dot + 1), head.substring(0, dot) + sub);
    }

    @Override
    public int compareTo(Permission o) {
        return ORDER.compare(this, o);
    }

    @Override
    public String toString() {
        int slash = resource.indexOf('/');
        String head = slash < 0 ? resource : resource.substring(0, slash);
        String sub = slash < 0 ? "" : resource.substring(slash);
        return verb + " " + (apiGroup.isEmpty() ? head : head + "." + apiGroup) + sub;
    }
}
