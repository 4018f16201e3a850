package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.trainer.aggregate.Contribution;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** The accepted updates' weights files, open side by side to be read tensor by tensor. */
final class UpdateReaders implements Closeable {
    private final List<SafetensorsReader> readers;

    private UpdateReaders(List<SafetensorsReader> readers) {
        this.readers = readers;
    }

    static UpdateReaders open(List<Contribution> accepted) throws IOException {
        UpdateReaders opened = new UpdateReaders(new ArrayList<>());
        try {
            for (Contribution c : accepted) {
                opened.readers.add(SafetensorsReader.open(c.update().weights()));
            }
        } catch (IOException | RuntimeException e) {
            opened.close();
            throw e;
        }
        return opened;
    }

    SafetensorsReader get(int i) {
        return readers.get(i);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafetensorsReader r : readers) {
            try {
                r.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
