package dev.localai.manager.observe;

import java.util.Map;

/** One state change or notable happening, sent on the SSE event stream. */
public record Event(long seq, long timeMillis, String type, String model, Map<String, Object> data) {}
