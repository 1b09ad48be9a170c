package dev.localai.tts.core.engine;

import dev.localai.tts.core.audio.encode.TimeStretcher;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.model.t3.BatchDecoder;
import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.text.Pauses;
import dev.localai.tts.core.text.SentenceSplitter;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One request of any length: the text split at pause tags ({@link Pauses}: exact silence) and sentence boundaries
 * into chunks of at most
 * {@link TtsOptions#chunkChars()}, each spoken by {@link ChatterboxTurbo#generateStream} with the request's voice and
 * a seed derived from the request's, trailing silence and hallucinated tails cut at the seams, chunks joined with a
 * short equal-power crossfade ({@link ChunkJoiner}) and time-stretched to the request's speed.
 */
final class ChunkedSynthesis {
    private static final int SR = AudioClip.SAMPLE_RATE;

    /** Receives the audio and the token counts. */
    interface Output {
        void audio(float[] samples);

        void tokens(int textTokens, int speechTokens);

        /** {@code done} of the request's {@code total} text chunks are spoken. */
        void chunks(int done, int total);

        /**
         * Of the audio handed to {@link #audio}, {@code seconds} came from flow runs cheaper than the checkpoint's
         * (a streamed request's, {@link StreamPacer}); told once, before the last audio is out of the way.
         */
        void cheaperAudio(double seconds);
    }

    private ChunkedSynthesis() {}

    static void run(ChatterboxTurbo model, BatchDecoder decoder, TtsOptions options, FirstBlockPlan firstPlan,
                    SpeechRequest request, PreparedVoice voice, boolean streaming, Output out,
                    BooleanSupplier cancelled) {
        // one vocoding pipeline for the whole request: a chunk's last flow and HiFT run there while the next chunk's
        // T3 decodes; everything that touches the audio (joiner, stretcher, pauses, progress) is queued behind them
        try (FlushPipeline pipeline = new FlushPipeline(Utterance.overlap,
                Utterance.flowQuadratic(model), firstPlan)) {
            runChunks(model, decoder, options, request, voice, streaming, out, cancelled, pipeline);
            pipeline.finish();
            if (streaming && firstPlan != null) {
                StreamPacer pacer = pipeline.pacer;
                firstPlan.streamed(pacer.cheaperSamples(), pacer.vocodedSamples(), pacer.laterCheaperRuns());
                // the pacer counts the vocoder's samples: what the listener gets is time-stretched to the speed
                out.cheaperAudio(pacer.cheaperSamples() / (double) SR / request.speed());
            }
        }
    }

    private static void runChunks(ChatterboxTurbo model, BatchDecoder decoder, TtsOptions options,
                                  SpeechRequest request, PreparedVoice voice, boolean streaming, Output out,
                                  BooleanSupplier cancelled, FlushPipeline pipeline) {
        long seed = request.seed() == null ? 0L : request.seed();
        SamplingParams base = new SamplingParams(request.temperatureOrDefault(), request.topKOrDefault(),
                request.topPOrDefault(), request.repetitionPenaltyOrDefault(), 1000);
        TimeStretcher[] stretch = {request.speed() == 1.0 ? null : new TimeStretcher(request.speed(), SR)};
        ChunkJoiner joiner = new ChunkJoiner(samples -> emit(out, stretch[0] == null ? samples
                : stretch[0].process(samples)));
        List<Pauses.Part> parts = Pauses.split(request.text());
        int total = parts.stream().filter(Pauses.Speech.class::isInstance)
                .mapToInt(sp -> SentenceSplitter.chunks(((Pauses.Speech) sp).text(), options.chunkChars()).size()).sum();
        out.chunks(0, total);
        int i = 0; // chunk index over the whole text: seeds as without pause tags
        boolean afterPause = false;
        for (Pauses.Part part : parts) {
            if (part instanceof Pauses.Pause pause) {
                // exact silence, outside the time-stretch: the speech before it leaves whole first
                pipeline.then(() -> {
                    if (stretch[0] != null) {
                        emit(out, stretch[0].finish());
                        stretch[0] = new TimeStretcher(request.speed(), SR);
                    }
                    emit(out, new float[pause.samples(SR)]);
                });
                afterPause = true;
                continue;
            }
            List<String> chunks = SentenceSplitter.chunks(((Pauses.Speech) part).text(), options.chunkChars());
            for (int k = 0; k < chunks.size(); k++, i++) {
                String text = chunks.get(k);
                int cap = request.maxTokens() != null ? request.maxTokens() : tokenCap(text);
                Utterance.Params p = new Utterance.Params(base.withMaxGenLen(cap), seed + 7919L * i, streaming,
                        options.firstBlockTokens(), options.maxBlockTokens(), options.flowSteps());
                // after a pause a chunk starts afresh: leading silence cut, no crossfade across the pause
                boolean fresh = i == 0 && !afterPause;
                pipeline.then(() -> joiner.beginChunk(fresh));
                Utterance.Result r = Utterance.run(model, decoder, voice, text, p, joiner::accept, cancelled,
                        pipeline);
                out.tokens(r.textTokens(), r.speechTokens());
                boolean lastOfPart = k == chunks.size() - 1;
                int done = i + 1;
                pipeline.then(() -> {
                    joiner.endChunk(lastOfPart);
                    out.chunks(done, total);
                });
            }
        }
        pipeline.then(() -> {
            if (stretch[0] != null) {
                emit(out, stretch[0].finish());
            }
        });
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
