package io.fedtune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.AdapterMismatchException;
import io.fedtune.trainer.data.TextTokenizer;
import io.fedtune.trainer.data.TokenizerMismatchException;
import io.fedtune.trainer.model.CheckpointInvalidException;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.storage.ObjectStore;
import io.fedtune.trainer.storage.StorageException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each local cause gets its own reason, with the path or key in the message; files read whole are capped. */
class FailureCausesTest {
    @TempDir
    Path tmp;

    @Test
    void aFullDiskWhileWritingIsScratchFullNamingThePath() {
        Failure f = Failure.of(new FileSystemException("/scratch/out/adapter_model.safetensors", null,
                "No space left on device"));
        assertThat(f.reason()).isEqualTo(FailureReason.ScratchFull);
        assertThat(f.message()).contains("/scratch/out/adapter_model.safetensors");
    }

    @Test
    void aFullDiskUnderAStorageFailureIsScratchFullNotStorageUnreachable() {
        Failure f = Failure.of(new StorageException(StorageException.Kind.UNREACHABLE, "cannot write s3://b/model",
                new IOException("No space left on device")));
        assertThat(f.reason()).isEqualTo(FailureReason.ScratchFull);
        assertThat(f.message()).contains("s3://b/model");
        assertThat(FailureReason.ScratchFull.permanent()).isFalse();
    }

    @Test
    void aShardsDataStoreOutIsDataUnreachableAndTheRunStoreStorageUnreachable() {
        assertThat(Failure.of(new StorageException(StorageException.Kind.DATA_UNREACHABLE, "the shard's data storage: x", null))
                .reason()).isEqualTo(FailureReason.DataUnreachable);
        assertThat(Failure.of(new StorageException(StorageException.Kind.UNREACHABLE, "x", null)).reason())
                .isEqualTo(FailureReason.StorageUnreachable);
    }

    @Test
    void aFullDiskWhileDownloadingNamesTheLocalFileAndTheObject() {
        // as ObjectStore reports it: its message repeats the cause's, whose stream write named no file
        IOException write = new IOException("No space left on device");
        IOException named = io.fedtune.trainer.storage.LocalDisk.naming(Path.of("/scratch/.download-1/model.safetensors"), write);
        Failure f = Failure.of(new StorageException(StorageException.Kind.UNREACHABLE,
                "cannot write s3://b/model/model.safetensors locally: " + named.getMessage(), named));
        assertThat(f.reason()).isEqualTo(FailureReason.ScratchFull);
        assertThat(f.message()).contains("writing /scratch/.download-1/model.safetensors").contains("s3://b/model/model.safetensors");
        assertThat(io.fedtune.trainer.storage.LocalDisk.naming(Path.of("/x"), new IOException("Connection reset")))
                .as("any other error stays as it is").hasMessage("Connection reset");
    }

    @Test
    void aScratchPathUnderARegularFileIsScratchUnwritable() throws IOException {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        Path scratch = file.resolve("work");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> Files.createDirectories(scratch));
        Failure f = Failure.of(e);
        assertThat(f.reason()).isEqualTo(FailureReason.ScratchUnwritable);
        assertThat(f.message()).contains(file.toString());
        assertThat(FailureReason.ScratchUnwritable.permanent()).isFalse();
    }

    @Test
    void aReadOnlyFileSystemIsScratchUnwritable() {
        Failure f = Failure.of(new FileSystemException("/scratch/tmp", null, "Read-only file system"));
        assertThat(f.reason()).isEqualTo(FailureReason.ScratchUnwritable);
        assertThat(f.message()).contains("/scratch/tmp");
    }

    @Test
    void anOutOfMemoryErrorIsOutOfMemoryNamingXmx() {
        Failure f = Failure.of(new RuntimeException("wrapped", new OutOfMemoryError("Java heap space")));
        assertThat(f.reason()).isEqualTo(FailureReason.OutOfMemory);
        assertThat(f.message()).contains("-Xmx");
        assertThat(TerminationMessage.train(TrainResult.failed(f.reason(), f.message()))).isNotEmpty();
    }

    @Test
    void aMissingObjectIsInputMissingNamingTheKey() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(tmp.resolve("s3")))) {
            s3.makeBucket("run");
            ObjectStore store = new ObjectStore(s3.endpoint(), null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
            S3Uri missing = S3Uri.parse("s3://run/round-0001/global/adapter_model.safetensors");
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(StorageException.class,
                    () -> store.download(missing, tmp.resolve("dl/file")));
            Failure f = Failure.of(e);
            assertThat(f.reason()).isEqualTo(FailureReason.InputMissing);
            assertThat(f.message()).contains("round-0001/global/adapter_model.safetensors");
            assertThat(FailureReason.InputMissing.permanent()).isFalse();
        }
    }

    @Test
    void anOversizedTaskFileIsInvalidTaskNamingTheFileAndTheCap() throws IOException {
        Path task = sparse(tmp.resolve("task.json"), TrainerEnv.TASK_CAP + 1);
        Path log = tmp.resolve("termination-log");
        TrainCommand train = new TrainCommand(new Environment(Map.of(TrainerEnv.TASK_FILE, task.toString(),
                TrainerEnv.TERMINATION_LOG, log.toString())));
        assertThat(train.call()).isEqualTo(1);
        TrainResult result = ContractJson.read(Files.readString(log), TrainResult.class);
        assertThat(result.reason()).isEqualTo("InvalidTask");
        assertThat(result.message()).contains(task.toString()).contains("16 MiB");
    }

    @Test
    void anOversizedConfigJsonIsCheckpointInvalid() throws IOException {
        sparse(tmp.resolve(ModelConfig.FILE), ModelConfig.CAP + 1);
        assertThatThrownBy(() -> ModelConfig.read(tmp)).isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining(ModelConfig.FILE).hasMessageContaining("cap");
    }

    @Test
    void anOversizedAdapterConfigIsAdapterMismatch() throws IOException {
        sparse(tmp.resolve(AdapterConfig.FILE), AdapterConfig.CAP + 1);
        assertThatThrownBy(() -> AdapterConfig.read(tmp)).isInstanceOf(AdapterMismatchException.class)
                .hasMessageContaining(AdapterConfig.FILE).hasMessageContaining("cap");
    }

    @Test
    void anOversizedTokenizerIsTokenizerMismatch() throws IOException {
        Path file = sparse(tmp.resolve("tokenizer.json"), TextTokenizer.CAP + 1);
        assertThatThrownBy(() -> TextTokenizer.load(file, 100)).isInstanceOf(TokenizerMismatchException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("cap");
    }

    /** A file of the given length that takes no disk. */
    private static Path sparse(Path file, long length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(length);
        }
        return file;
    }
}
