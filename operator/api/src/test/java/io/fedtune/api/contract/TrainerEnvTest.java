package io.fedtune.api.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerEnvTest {
    @TempDir
    Path tmp;

    @Test
    void theTaskFileWinsOverTheVariableAndIsReadUpToTheCap() throws IOException {
        Path file = Files.writeString(tmp.resolve("task.json"), "{\"from\":\"file\"}");
        assertThat(TrainerEnv.task(Map.of(TrainerEnv.TASK_FILE, file.toString(), TrainerEnv.TASK, "{}")::get))
                .contains("{\"from\":\"file\"}");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(TrainerEnv.TASK_CAP);
        }
        assertThat(TrainerEnv.taskFile(file)).hasSize(TrainerEnv.TASK_CAP);
    }

    @Test
    void aTaskOverTheCapIsRefusedNamingTheFileAndTheCap() throws IOException {
        Path file = tmp.resolve("task.json");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(400L * 1024 * 1024);
        }
        assertThatThrownBy(() -> TrainerEnv.task(Map.of(TrainerEnv.TASK_FILE, file.toString())::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("16 MiB");
        String big = "x".repeat(TrainerEnv.TASK_CAP + 1);
        assertThatThrownBy(() -> TrainerEnv.task(Map.of(TrainerEnv.TASK, big)::get))
                .hasMessageContaining(TrainerEnv.TASK).hasMessageContaining("over the cap");
    }
}
