package dev.localai.manager.gaming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/** Persists the gaming-mode flag (written atomically, read at boot). A null file keeps it in memory only. */
public final class StateStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;

    public StateStore(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    public boolean loadGaming() {
        if (file == null || !Files.exists(file)) return false;
        try {
            JsonNode n = JSON.readTree(file.toFile());
            return n.path("gaming_mode").asBoolean(false);
        } catch (IOException e) {
            // a corrupt state file must not start GPU models under a game: fail safe
            java.util.logging.Logger.getLogger("dev.localai.manager").warning("unreadable state file " + file + " (" + e.getMessage() + "): assuming gaming mode ON");
            return true;
        }
    }

    public synchronized void saveGaming(boolean gaming) throws IOException {
        if (file == null) return;
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".manager-state", ".tmp");
        try {
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(
                    Map.of("gaming_mode", gaming, "updated_at", java.time.Instant.now().toString()));
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(bytes));
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
