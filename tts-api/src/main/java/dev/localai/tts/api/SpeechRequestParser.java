package dev.localai.tts.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Parses and validates the JSON body of {@code POST /v1/audio/speech}. Every failure is an
 * {@link ApiException} with status 400, type {@code invalid_request_error}, the offending {@code param} and a
 * precise message, so that clients (and OpenAI SDKs, which retry 5xx) get an actionable 4xx.
 */
public final class SpeechRequestParser {

    /** OpenAI's limit on {@code input} and {@code instructions}, in characters. */
    public static final int MAX_INPUT_CHARS = 4096;
    public static final double MIN_SPEED = 0.25;
    public static final double MAX_SPEED = 4.0;
    public static final double MAX_TEMPERATURE = 2.0;
    public static final double MAX_REPETITION_PENALTY = 10.0;
    public static final int MAX_TOKENS_LIMIT = 4096;

    private static final Set<String> KNOWN = Set.of("model", "input", "voice", "instructions", "response_format",
            "speed", "stream_format", "stream", "seed", "temperature", "top_k", "top_p", "repetition_penalty",
            "max_tokens", "exaggeration", "cfg_weight", "min_p");

    /**
     * Parameters of other Chatterbox variants that Turbo does not honour: accepted (they must be numbers) and
     * ignored, as upstream Turbo does, and reported by {@link SpeechCreateRequest#ignoredParameters()}.
     */
    public static final Set<String> IGNORED = Set.of("exaggeration", "cfg_weight", "min_p");

    private final boolean rejectUnknown;

    /**
     * @param rejectUnknown {@code true} to answer unknown fields with 400 {@code unknown_parameter} as OpenAI does;
     *                      {@code false} to ignore them ({@link #IGNORED} fields are accepted and reported either
     *                      way)
     */
    public SpeechRequestParser(boolean rejectUnknown) {
        this.rejectUnknown = rejectUnknown;
    }

    /** A strict parser (unknown fields rejected). */
    public static SpeechRequestParser strict() {
        return new SpeechRequestParser(true);
    }

    /** The model a lenient parser assumes when a request names none. */
    public static final String DEFAULT_MODEL = "chatterbox-turbo";
    /** The voice a lenient parser assumes when a request names none (the built-in voice). */
    public static final String DEFAULT_VOICE = "default";

    /**
     * A lenient parser: unknown fields are ignored, and a missing
     * {@code model} or {@code voice} means {@link #DEFAULT_MODEL} / {@link #DEFAULT_VOICE}, so the home-lab
     * dashboard's {@code {"input": "..."}} works as it did against the Python server. Present but wrong values are
     * errors either way.
     */
    public static SpeechRequestParser lenient() {
        return new SpeechRequestParser(false);
    }

    /** Whether unknown fields are rejected. */
    public boolean rejectsUnknown() {
        return rejectUnknown;
    }

    /** Parses a request body. */
    public SpeechCreateRequest parse(byte[] body) {
        if (body == null || body.length == 0) {
            throw ApiException.invalid(null, "invalid_json",
                    "The request body is empty; send a JSON object with 'model', 'input' and 'voice'.");
        }
        Utf8.require(body);
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw ApiException.invalid(null, "invalid_json",
                    "We could not parse the JSON body of your request: " + e.getOriginalMessage() + where
                    + ". Send a JSON object with 'model', 'input' and 'voice'.");
        } catch (IOException e) {
            throw ApiException.invalid(null, "invalid_json", "Could not read the request body: " + e.getMessage());
        }
        return parse(root);
    }

    /** Validates an already parsed JSON tree. */
    public SpeechCreateRequest parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw ApiException.invalid(null, "invalid_type", "The request body must be a JSON object, got "
                    + (root == null ? "nothing" : kind(root)) + ".");
        }
        ObjectNode o = (ObjectNode) root;
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (rejectUnknown && !KNOWN.contains(f)) {
                throw ApiException.invalid(f, "unknown_parameter",
                        "Unrecognized request argument supplied: '" + f + "'.");
            }
        }
        String model = !rejectUnknown && absent(o, "model") ? DEFAULT_MODEL : requiredString(o, "model");
        if (model.isBlank()) {
            throw ApiException.invalid("model", "invalid_value", "'model' must not be empty.");
        }
        String input = requiredString(o, "input");
        if (input.isBlank()) {
            throw ApiException.invalid("input", "string_too_short", "'input' must not be empty.");
        }
        checkLength("input", input);
        VoiceRef voice = !rejectUnknown && absent(o, "voice") ? VoiceRef.name(DEFAULT_VOICE) : voice(o);
        String instructions = optionalString(o, "instructions");
        if (instructions != null) {
            checkLength("instructions", instructions);
        }
        ResponseFormat format = null;
        String fmt = optionalString(o, "response_format");
        if (fmt != null) {
            format = ResponseFormat.fromWire(fmt).orElseThrow(() -> ApiException.invalid("response_format",
                    "invalid_value", "Invalid value for 'response_format': '" + fmt + "'. Supported values are: "
                            + Arrays.stream(ResponseFormat.values()).map(f -> "'" + f.wire() + "'")
                            .collect(Collectors.joining(", ")) + "."));
        }
        Double speed = optionalNumber(o, "speed");
        if (speed != null && (speed < MIN_SPEED || speed > MAX_SPEED || speed.isNaN())) {
            throw ApiException.invalid("speed", speed < MIN_SPEED ? "decimal_below_min_value" : "decimal_above_max_value",
                    "Invalid 'speed': " + fmtNum(speed) + ". It must be between 0.25 and 4.0.");
        }
        StreamFormat streamFormat = null;
        String sf = optionalString(o, "stream_format");
        if (sf != null) {
            streamFormat = StreamFormat.fromWire(sf).orElseThrow(() -> ApiException.invalid("stream_format",
                    "invalid_value", "Invalid value for 'stream_format': '" + sf + "'. Supported values are: 'audio', 'sse'."));
        }
        Boolean stream = optionalBoolean(o, "stream");
        Long seed = optionalLong(o, "seed");
        Double temperature = optionalNumber(o, "temperature");
        if (temperature != null && !(temperature > 0 && temperature <= MAX_TEMPERATURE)) {
            throw ApiException.invalid("temperature", "invalid_value",
                    "Invalid 'temperature': " + fmtNum(temperature) + ". It must be greater than 0 and at most 2.");
        }
        Long topK = optionalLong(o, "top_k");
        if (topK != null && (topK < 1 || topK > Integer.MAX_VALUE)) {
            throw ApiException.invalid("top_k", topK < 1 ? "integer_below_min_value" : "integer_above_max_value",
                    "Invalid 'top_k': " + topK + ". It must be an integer between 1 and " + Integer.MAX_VALUE + ".");
        }
        Double topP = optionalNumber(o, "top_p");
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw ApiException.invalid("top_p", "invalid_value",
                    "Invalid 'top_p': " + fmtNum(topP) + ". It must be greater than 0 and at most 1.");
        }
        Double rep = optionalNumber(o, "repetition_penalty");
        if (rep != null && !(rep >= 1 && rep <= MAX_REPETITION_PENALTY)) {
            throw ApiException.invalid("repetition_penalty", "invalid_value",
                    "Invalid 'repetition_penalty': " + fmtNum(rep) + ". It must be between 1 and 10.");
        }
        Long maxTokens = optionalLong(o, "max_tokens");
        if (maxTokens != null && (maxTokens < 1 || maxTokens > MAX_TOKENS_LIMIT)) {
            throw ApiException.invalid("max_tokens", maxTokens < 1 ? "integer_below_min_value" : "integer_above_max_value",
                    "Invalid 'max_tokens': " + maxTokens + ". It must be between 1 and " + MAX_TOKENS_LIMIT + ".");
        }
        // accepted for the clients of other Chatterbox servers, checked only for their type, and ignored
        Double exaggeration = optionalNumber(o, "exaggeration");
        Double cfgWeight = optionalNumber(o, "cfg_weight");
        Double minP = optionalNumber(o, "min_p");
        return new SpeechCreateRequest(model, input, voice, instructions, format, speed, streamFormat, stream, seed,
                temperature, topK == null ? null : topK.intValue(), topP, rep,
                maxTokens == null ? null : maxTokens.intValue(), exaggeration, cfgWeight, minP);
    }

    private static VoiceRef voice(ObjectNode o) {
        JsonNode v = o.get("voice");
        if (v == null || v.isNull()) {
            throw ApiException.invalid("voice", "missing_required_parameter", "Missing required parameter: 'voice'.");
        }
        if (v.isTextual()) {
            if (v.asText().isBlank()) {
                throw ApiException.invalid("voice", "invalid_value", "'voice' must not be empty.");
            }
            return VoiceRef.name(v.asText());
        }
        if (v.isObject()) {
            for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("id")) {
                    throw ApiException.invalid("voice." + f, "unknown_parameter",
                            "Unrecognized field in 'voice': '" + f + "'. A voice object has only 'id'.");
                }
            }
            JsonNode id = v.get("id");
            if (id == null || id.isNull()) {
                throw ApiException.invalid("voice.id", "missing_required_parameter",
                        "Missing required parameter: 'voice.id'.");
            }
            if (!id.isTextual()) {
                throw ApiException.invalid("voice.id", "invalid_type",
                        "Invalid type for 'voice.id': expected a string, but got " + kind(id) + ".");
            }
            if (id.asText().isBlank()) {
                throw ApiException.invalid("voice.id", "invalid_value", "'voice.id' must not be empty.");
            }
            return VoiceRef.id(id.asText());
        }
        throw ApiException.invalid("voice", "invalid_type",
                "Invalid type for 'voice': expected a string or an object {\"id\": ...}, but got " + kind(v) + ".");
    }

    private static void checkLength(String param, String s) {
        int n = s.codePointCount(0, s.length());
        if (n > MAX_INPUT_CHARS) {
            throw ApiException.invalid(param, "string_above_max_length", "Invalid '" + param
                    + "': string too long. Expected a string with maximum length " + MAX_INPUT_CHARS
                    + ", but got a string with length " + n + " instead.");
        }
    }

    private static boolean absent(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        return n == null || n.isNull();
    }

    private static String requiredString(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) {
            throw ApiException.invalid(name, "missing_required_parameter", "Missing required parameter: '" + name + "'.");
        }
        if (!n.isTextual()) {
            throw typeError(name, "a string", n);
        }
        return n.asText();
    }

    private static String optionalString(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw typeError(name, "a string", n);
        }
        return n.asText();
    }

    private static Double optionalNumber(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isNumber()) {
            throw typeError(name, "a number", n);
        }
        double d = n.asDouble();
        if (!Double.isFinite(d)) {
            throw ApiException.invalid(name, "invalid_value", "Invalid '" + name + "': must be a finite number.");
        }
        return d;
    }

    private static Long optionalLong(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            return n.asLong();
        }
        if (n.isFloatingPointNumber() && n.canConvertToExactIntegral() && n.canConvertToLong()) {
            return n.asLong();
        }
        if (n.isIntegralNumber() || n.isFloatingPointNumber() && n.canConvertToExactIntegral()) {
            // an integer, just not one that fits 64 bits (2^70): say so, rather than "expected an integer"
            boolean above = n.decimalValue().signum() > 0;
            throw ApiException.invalid(name, above ? "integer_above_max_value" : "integer_below_min_value",
                    "Invalid '" + name + "': " + n.bigIntegerValue() + " is out of range. It must be an integer "
                            + "between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE + " (-2^63 and 2^63-1).");
        }
        throw typeError(name, "an integer", n);
    }

    private static Boolean optionalBoolean(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isBoolean()) {
            throw typeError(name, "a boolean", n);
        }
        return n.asBoolean();
    }

    private static ApiException typeError(String name, String expected, JsonNode got) {
        return ApiException.invalid(name, "invalid_type",
                "Invalid type for '" + name + "': expected " + expected + ", but got " + kind(got) + ".");
    }

    private static String kind(JsonNode n) {
        if (n.isTextual()) {
            return "a string";
        }
        if (n.isIntegralNumber()) {
            return "an integer";
        }
        if (n.isNumber()) {
            return "a decimal";
        }
        if (n.isBoolean()) {
            return "a boolean";
        }
        if (n.isArray()) {
            return "an array";
        }
        if (n.isObject()) {
            return "an object";
        }
        return "null";
    }

    private static String fmtNum(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
