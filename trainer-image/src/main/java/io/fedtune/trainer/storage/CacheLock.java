package io.fedtune.trainer.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One cache entry's lock, held while it is checked, filled or discarded: an OS file lock between pods sharing the cache
 * volume, and a JVM lock between threads (a JVM cannot take the same file lock twice).
 */
final class CacheLock implements AutoCloseable {
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();
    private final ReentrantLock threads;
    private final FileChannel channel;
    private final FileLock lock;

    private CacheLock(ReentrantLock threads, FileChannel channel, FileLock lock) {
        this.threads = threads;
        this.channel = channel;
        this.lock = lock;
    }

    static CacheLock take(Path lockFile) throws IOException {
        ReentrantLock threads = IN_JVM.computeIfAbsent(lockFile.toAbsolutePath().normalize(), p -> new ReentrantLock());
        threads.lock();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            return new CacheLock(threads, channel, channel.lock());
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            threads.unlock();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
            channel.close();
        } finally {
            threads.unlock();
        }
    }
}
