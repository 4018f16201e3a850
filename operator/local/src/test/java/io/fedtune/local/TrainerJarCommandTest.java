package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerJarCommandTest {
    @TempDir
    Path dir;

    @Test
    void trainersPreloadTheFirstTcmallocThisMachineHas() throws Exception {
        Path missing = dir.resolve("lib64/libtcmalloc_minimal.so.4");
        Path present = Files.createDirectories(dir.resolve("lib")).resolve("libtcmalloc_minimal.so.4");
        Files.write(present, new byte[]{0x7f, 'E', 'L', 'F'});

        assertThat(TrainerJarCommand.trainerEnv(List.of(missing, present)))
                .containsEntry("LD_PRELOAD", present.toString())
                .containsEntry("MKL_CBWR", "AUTO");
    }

    @Test
    void withoutTcmallocTrainersRunOnTheSystemMalloc() {
        assertThat(TrainerJarCommand.trainerEnv(List.of(dir.resolve("none.so"))))
                .doesNotContainKey("LD_PRELOAD")
                .containsEntry("OPT_OUT_TRACKING", "true");
    }
}
