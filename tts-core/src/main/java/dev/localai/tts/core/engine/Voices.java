package dev.localai.tts.core.engine;

import dev.localai.tts.core.audio.AudioException;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.VoiceInfo;
import dev.localai.tts.core.voice.Conditionals;
import dev.localai.tts.core.voice.VoiceLibrary;
import dev.localai.tts.core.voice.VoiceLibraryException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The engine's voices: the built-in voice of {@code conds.pt}, the on-disk {@link VoiceLibrary} (when configured),
 * and, for SDK/CLI use only, reference clips named by path. Conditionals become device tensors once per voice
 * content and are shared by all requests.
 */
final class Voices implements AutoCloseable {
    private final ChatterboxModel model;
    private final VoiceLibrary library;
    private final String revision;
    private final boolean allowClipPaths;
    private final Function<Path, Conditionals> cloner;
    private final Map<String, PreparedVoice> prepared = new ConcurrentHashMap<>();

    Voices(ChatterboxModel model, Path libraryDir, String revision, boolean allowClipPaths,
            Function<Path, Conditionals> cloner) {
        this.model = model;
        this.revision = revision;
        this.allowClipPaths = allowClipPaths;
        this.cloner = cloner;
        this.library = libraryDir == null ? null : new VoiceLibrary(libraryDir, revision, cloner);
    }

    List<VoiceInfo> list() {
        List<VoiceInfo> out = new ArrayList<>();
        if (model.builtinVoice() != null) {
            out.add(new VoiceInfo(TtsEngine.BUILTIN_VOICE, "Built-in voice", Instant.EPOCH, 0, true));
        }
        if (library != null) {
            for (VoiceLibrary.Voice v : library.list()) {
                out.add(new VoiceInfo(v.name(), v.name(), v.added(), 0, false));
            }
        }
        return out;
    }

    VoiceInfo add(String name, byte[] audio) {
        if (library == null) {
            throw new EngineException(EngineException.Kind.INVALID_REQUEST,
                    "this engine has no voice library (configure a voices directory)");
        }
        if (TtsEngine.BUILTIN_VOICE.equalsIgnoreCase(name)) {
            throw new EngineException(EngineException.Kind.CONFLICT, "'" + name + "' is the built-in voice's name");
        }
        try {
            VoiceLibrary.validateName(name);
            if (library.contains(name)) {
                throw new EngineException(EngineException.Kind.CONFLICT, "a voice named '" + name + "' already exists");
            }
            VoiceLibrary.Voice v = library.add(name, audio, "upload.bin");
            return new VoiceInfo(v.name(), v.name(), v.added(), 0, false);
        } catch (IllegalArgumentException e) {
            throw new EngineException(EngineException.Kind.INVALID_REQUEST, e.getMessage());
        } catch (VoiceLibraryException e) {
            throw translate(e);
        } catch (AudioException e) {
            throw new EngineException(EngineException.Kind.INVALID_AUDIO, e.getMessage());
        }
    }

    boolean delete(String id) {
        if (TtsEngine.BUILTIN_VOICE.equals(id)) {
            throw new EngineException(EngineException.Kind.FORBIDDEN, "the built-in voice cannot be deleted");
        }
        if (library == null || !VoiceLibrary.isValidName(id)) {
            return false;
        }
        boolean deleted = library.delete(id);
        // the table's reference goes; requests still using the voice hold theirs, the last one frees the tensors
        PreparedVoice old = prepared.remove(id);
        if (old != null) {
            old.release();
        }
        return deleted;
    }

    VoiceInfo rename(String id, String newName) {
        if (TtsEngine.BUILTIN_VOICE.equals(id)) {
            throw new EngineException(EngineException.Kind.FORBIDDEN, "the built-in voice cannot be renamed");
        }
        if (library == null || !VoiceLibrary.isValidName(id) || !library.contains(id)) {
            throw EngineException.unknownVoice(id);
        }
        if (TtsEngine.BUILTIN_VOICE.equalsIgnoreCase(newName)) {
            throw new EngineException(EngineException.Kind.CONFLICT, "'" + newName + "' is the built-in voice's name");
        }
        try {
            VoiceLibrary.validateName(newName);
            VoiceLibrary.Voice v = library.rename(id, newName);
            // not closed here: a request may still be using the tensors; the garbage collector frees them
            prepared.remove(id);
            return new VoiceInfo(v.name(), v.name(), v.added(), 0, false);
        } catch (IllegalArgumentException e) {
            throw new EngineException(EngineException.Kind.INVALID_REQUEST, e.getMessage());
        } catch (VoiceLibraryException e) {
            throw translate(e);
        }
    }

    /** Conditionals of a voice id (built-in, library name, or a clip path where allowed). */
    Conditionals conditionals(String id) {
        if (TtsEngine.BUILTIN_VOICE.equals(id)) {
            if (model.builtinVoice() == null) {
                throw new EngineException(EngineException.Kind.UNKNOWN_VOICE,
                        "the model directory has no conds.pt, so there is no built-in voice; pass a voice");
            }
            return model.builtinVoice();
        }
        try {
            if (library != null && VoiceLibrary.isValidName(id) && library.contains(id)) {
                return library.conditionals(id);
            }
            if (allowClipPaths && !VoiceLibrary.isValidName(id) || allowClipPaths && Files.isRegularFile(Path.of(id))) {
                Path clip = Path.of(id);
                if (Files.isRegularFile(clip)) {
                    return library != null ? library.conditionalsForClip(clip) : cloner.apply(clip);
                }
            }
        } catch (VoiceLibraryException e) {
            throw translate(e);
        } catch (AudioException e) {
            throw new EngineException(EngineException.Kind.INVALID_AUDIO, e.getMessage());
        } catch (java.nio.file.InvalidPathException e) {
            throw EngineException.unknownVoice(id);
        }
        throw EngineException.unknownVoice(id);
    }

    /**
     * Device tensors of a voice, made on first use, with a reference taken for the caller: call
     * {@link PreparedVoice#release()} when done.
     */
    PreparedVoice acquire(String id) {
        for (int attempt = 0; attempt < 100; attempt++) {
            PreparedVoice p = prepared.get(id);
            if (p == null) {
                Conditionals c = conditionals(id);
                p = prepared.computeIfAbsent(id, k -> PreparedVoice.of(k, c, model.device(),
                        model.t3()::forgetPrefix));
            }
            if (p.acquire()) {
                return p;
            }
            // freed by a concurrent delete between get and acquire: drop the stale entry and look again
            prepared.remove(id, p);
        }
        throw new IllegalStateException("voice " + id + " keeps being replaced");
    }

    /** What identifies a voice's content for the audio cache. */
    String contentId(String id) {
        if (TtsEngine.BUILTIN_VOICE.equals(id)) {
            return "builtin@" + revision;
        }
        if (library != null && VoiceLibrary.isValidName(id)) {
            return library.get(id).map(v -> v.clipSha256() + "@" + revision).orElse(id);
        }
        return id + "@" + revision;
    }

    private static EngineException translate(VoiceLibraryException e) {
        String m = e.getMessage() == null ? "voice library error" : e.getMessage();
        EngineException.Kind kind = m.contains("already exists") ? EngineException.Kind.CONFLICT
                : m.startsWith("no voice") ? EngineException.Kind.UNKNOWN_VOICE
                : e.getCause() instanceof AudioException || m.contains("clip") ? EngineException.Kind.INVALID_AUDIO
                : EngineException.Kind.INTERNAL;
        return new EngineException(kind, m, null, e);
    }

    @Override
    public void close() {
        prepared.values().forEach(PreparedVoice::release);
        prepared.clear();
    }
}
