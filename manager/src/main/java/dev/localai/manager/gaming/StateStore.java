package dev.localai.manager.gaming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.logging.Logger;

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

    /**
     * The persisted flag. No file = first run = off. Anything else that is not an object with a boolean
     * {@code gaming_mode} (an empty file, {@code []}, {@code {"gaming_mode":"yes"}}, broken JSON) means ON with a
     * WARNING: a state file that cannot be read must never start GPU models under a game.
     */
    public boolean loadGaming() {
        if (file == null || !Files.exists(file)) return false;
        String problem;
        try {
            JsonNode n = JSON.readTree(file.toFile());
            JsonNode flag = n == null ? null : n.get("gaming_mode");
            if (flag != null && flag.isBoolean() && n.isObject()) return flag.asBoolean();
            problem = n == null || n.isMissingNode() ? "empty"
                    : !n.isObject() ? "not a JSON object"
                    : flag == null ? "no \"gaming_mode\" field" : "\"gaming_mode\" is not true or false";
        } catch (IOException e) {
            problem = e.getMessage();
        }
        Logger.getLogger("dev.localai.manager").warning("unreadable state file " + file + " (" + problem
                + "): assuming gaming mode ON (fail safe); switch it off with POST /gaming-mode?enable=false");
        return true;
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
