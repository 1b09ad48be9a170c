package dev.localai.tts.api;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 for request bodies: malformed sequences, overlong encodings ({@code C0 80}) and encoded surrogates
 * are a 400 before any JSON parser sees the bytes (Jackson decodes some of them leniently).
 */
public final class Utf8 {
    private Utf8() {
    }

    /** Throws 400 {@code invalid_json} unless {@code body} is well-formed UTF-8. */
    public static void require(byte[] body) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        try {
            d.decode(in);
        } catch (CharacterCodingException e) {
            throw ApiException.invalid(null, "invalid_json", "The request body is not valid UTF-8 (malformed "
                    + "or overlong byte sequence near byte " + in.position() + ").");
        }
    }
}
