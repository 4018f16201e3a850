package io.fedtune.trainer.cli;

/** DJL settings the trainer needs before the engine starts: offline, and one intra-op thread unless told otherwise. */
final class DjlRuntime {
    private DjlRuntime() {
    }

    static void configure() {
        setIfAbsent("ai.djl.offline", "true");
        // one thread keeps CPU runs bit-for-bit repeatable; FEDTUNE_THREADS raises it
        String threads = System.getenv().getOrDefault("FEDTUNE_THREADS", "1");
        setIfAbsent("ai.djl.pytorch.num_threads", threads);
        setIfAbsent("ai.djl.pytorch.num_interop_threads", "1");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
