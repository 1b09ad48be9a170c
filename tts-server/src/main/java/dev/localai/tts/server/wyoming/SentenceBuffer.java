package dev.localai.tts.server.wyoming;

import dev.localai.tts.core.text.SentenceSplitter;
import java.util.List;

/**
 * Gathers the text of a streamed synthesis ({@code synthesize-chunk}s, often a few characters each, as a language
 * model writes them) and gives it back in whole sentences, so each can be spoken as soon as it is complete. A
 * sentence counts as complete once the text after it has begun; an unfinished one longer than {@code maxChars} is
 * given back as it is rather than held without end.
 */
final class SentenceBuffer {
    private final int maxChars;
    private String pending = "";

    SentenceBuffer(int maxChars) {
        this.maxChars = maxChars;
    }

    /** Adds a chunk; returns the text now ready to speak (complete sentences), or an empty string. */
    String add(String chunk) {
        if (chunk.length() > maxChars) {
            throw new WyomingException("text_too_long", "A synthesize-chunk has " + chunk.length()
                    + " characters; at most " + maxChars + " are accepted.");
        }
        pending = pending + chunk;
        List<String> sentences = SentenceSplitter.sentences(pending);
        String ready = "";
        if (sentences.size() >= 2) {
            String last = sentences.get(sentences.size() - 1);
            // keep the unfinished sentence as it came, trailing spaces included, so the next chunk joins it right
            pending = pending.substring(pending.lastIndexOf(last));
            ready = String.join(" ", sentences.subList(0, sentences.size() - 1));
        }
        if (pending.length() > maxChars) {
            String rest = finish();
            ready = ready.isEmpty() ? rest : ready + " " + rest;
        }
        return ready;
    }

    /** The rest of the text (the stream ended), trimmed; empty when none. */
    String finish() {
        String rest = pending.strip();
        pending = "";
        return rest;
    }
}
