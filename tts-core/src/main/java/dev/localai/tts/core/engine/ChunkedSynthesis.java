package dev.localai.tts.core.engine;

import dev.localai.tts.core.audio.encode.TimeStretcher;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.model.t3.BatchDecoder;
import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.text.SentenceSplitter;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One request of any length: the text split at sentence boundaries into chunks of at most
 * {@link TtsOptions#chunkChars()}, each spoken by {@link ChatterboxTurbo#generateStream} with the request's voice and
 * a seed derived from the request's, trailing silence and hallucinated tails cut at the seams, chunks joined with a
 * short equal-power crossfade ({@link ChunkJoiner}) and time-stretched to the request's speed.
 */
final class ChunkedSynthesis {
    /** Receives the audio and the token counts. */
    interface Output {
        void audio(float[] samples);

        void tokens(int textTokens, int speechTokens);
    }

    private ChunkedSynthesis() {}

    static void run(ChatterboxTurbo model, BatchDecoder decoder, TtsOptions options, SpeechRequest request,
                    PreparedVoice voice, boolean streaming, Output out, BooleanSupplier cancelled) {
        List<String> chunks = SentenceSplitter.chunks(request.text(), options.chunkChars());
        long seed = request.seed() == null ? 0L : request.seed();
        SamplingParams base = new SamplingParams(request.temperatureOrDefault(), request.topKOrDefault(),
                request.topPOrDefault(), request.repetitionPenaltyOrDefault(), 1000);
        TimeStretcher stretch = request.speed() == 1.0 ? null : new TimeStretcher(request.speed(),
                AudioClip.SAMPLE_RATE);
        ChunkJoiner joiner = new ChunkJoiner(samples -> emit(out, stretch == null ? samples : stretch.process(samples)));
        for (int i = 0; i < chunks.size(); i++) {
            String text = chunks.get(i);
            int cap = request.maxTokens() != null ? request.maxTokens() : tokenCap(text);
            Utterance.Params p = new Utterance.Params(base.withMaxGenLen(cap), seed + 7919L * i, streaming,
                    options.firstBlockTokens(), options.maxBlockTokens());
            joiner.beginChunk(i == 0);
            Utterance.Result r = model.generateStream(text, voice, p, decoder, joiner::accept, cancelled);
            out.tokens(r.textTokens(), r.speechTokens());
            joiner.endChunk(i == chunks.size() - 1);
        }
        if (stretch != null) {
            emit(out, stretch.finish());
        }
    }

    private static void emit(Output out, float[] samples) {
        if (samples.length > 0) {
            out.audio(samples);
        }
    }

    /** Speech tokens allowed for a chunk: generous for its length (25 tokens per second of speech), at most 1000. */
    static int tokenCap(String text) {
        return (int) Math.min(1000, 50 + 6L * text.length());
    }
}
