package dev.localai.tts.cli;

import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.s3gen.S3GenConfig;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
import dev.localai.tts.core.model.t3.T3;
import dev.localai.tts.core.model.t3.T3Config;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.tuning.CpuIdentity;
import dev.localai.tts.core.tuning.DtypeProbe;
import dev.localai.tts.core.tuning.WeightTypes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * What a user feels, with the engine's defaults: the real-time factor of one ~5 s utterance with the built-in voice
 * (a cloned voice's prompt lengths), the time to the first streamed audio with the voice already prepared, T3's decode
 * time per token against its memory-bandwidth floor (the bytes of weights one decode step reads over the bandwidth of
 * a large fp32 matrix-vector product on all cores, measured right before and right after the decode, so that both
 * sides of the ratio see the same machine). With {@code repeats} above 1 the utterance, the streamed request and T3's
 * decode run that many times and the medians are reported, with the range (T3's ratio per run, each against the
 * bandwidth measured right before and right after it). The share of CPU time the hypervisor stole during
 * the run is reported too: on a shared virtual machine it can move every figure by a third. Prints figures; asserts
 * nothing.
 */
final class EngineBenchmark {
    /** About 5 s of speech at Turbo's 25 tokens per second. */
    static final int UTTERANCE_TOKENS = 125;
    static final String TEXT = "The quick brown fox jumps over the lazy dog, and then it runs back home again.";

    private EngineBenchmark() {
    }

    /** Every figure, in output order. */
    static Map<String, Object> run(String modelDir, int t3Tokens, int repeats) throws Exception {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be at least 1: " + repeats);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        CpuTimes start = CpuTimes.now();
        Torch.load();
        r.put("cpu", DtypeProbe.cpuModel());
        // which CPU the figures belong to: a VM's bare model name does not tell a Zen 4 from a Zen 5; the caps say
        // whether another CPU's dispatch was emulated
        CpuIdentity id = CpuIdentity.now();
        r.put("cpu_family_model", id.family());
        r.put("cpu_flags", id.flags());
        r.put("dispatch_caps", id.caps());
        r.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("load_average", loadAverage());
        r.put("model", modelDir);
        r.put("repeats", repeats);
        String dtype;
        boolean fused; // int8 T3 decoding through the native block kernel
        int firstBlockTokens;
        // no audio cache: a repeated request must be synthesized again, not served from memory
        // a voice library of its own, for timing a clone (deleted afterwards)
        Path voices = java.nio.file.Files.createTempDirectory("tts-bench-voices");
        // warmed up as the server's engine is (its first streamed request then waits no longer than the next ones)
        try (TtsEngine e = TtsEngine.builder().model(modelDir).allowDownload(false).cacheBytes(0).voicesDir(voices)
                .warmUp(true).build()) {
            dtype = e.modelInfo().dtype();
            firstBlockTokens = e.options().firstBlockTokens();
            r.put("dtype", dtype);
            // the flow's solver steps (Turbo's 2 unless -Dlocalai.tts.flowSteps=N, TtsOptions.Builder#flowSteps)
            r.put("flow_steps", e.flowSteps());
            // the weight-type probe (at a machine's first two starts): seconds it measured for at this start, or kept
            java.util.OptionalDouble probe = DtypeProbe.measuredSeconds();
            r.put("probe_s", probe.isPresent() ? (Object) (Math.round(probe.getAsDouble() * 10) / 10.0) : "kept");
            r.put("threads", Torch.threads());
            // LibTorch's own count (physical cores): where it differs, the engine measured which is faster
            r.put("libtorch_default_threads", Torch.defaultThreads());
            r.put("blas_threads", Torch.blasThreads());
            // glibc's arena limit: without one the engine's threads refault their tensors (docs/performance.md)
            r.put("malloc_arena_max", Torch.mallocArenaMax());
            r.put("huge_pages", dev.localai.tts.core.runtime.HugePages.describe());
            // JavaCPP's malloc_trim(0), which JavaCV runs after every FFmpeg decode or encode: "skipped" where the
            // engine turned it off (nn.MallocTrimGuard), "on" where it still runs (docs/performance.md, "Twenty-eighth
            // round")
            r.put("malloc_trim", dev.localai.tts.core.nn.MallocTrimGuard.installed() ? "skipped" : "on");
            r.put("conv_layout", dev.localai.tts.core.nn.Conv.channelsLast() ? "channels-last" : "contiguous");
            r.put("int8_kernel", dev.localai.tts.core.nn.Int8Matrix.nativeKernel()
                    ? "native " + dev.localai.tts.core.nn.Int8Kernel.isa().label() : "fbgemm");
            r.put("decode_attention", dev.localai.tts.core.nn.CpuAttention.usedForDecode()
                    ? "native " + dev.localai.tts.core.nn.CpuAttention.path() : "libtorch");
            fused = dtype.equals("int8") && dev.localai.tts.core.nn.Int8Matrix.nativeKernel()
                    && dev.localai.tts.core.nn.DecoderBlockKernel.enabled();
            r.put("t3_decode_blocks", fused ? "native" : "libtorch ops");
            r.put("t3_kv_cache", fused ? dev.localai.tts.core.nn.DecoderBlockKernel.cacheType().label()
                    : dtype.equals("int8") ? "fp32" : dtype);
            r.put("t3_speech_head", fused ? "fp16" : dtype.equals("int8") ? "fp32" : dtype);
            r.put("t3_sampling", dev.localai.tts.core.nn.LogitsKernel.enabled() ? "native" : "libtorch");
            // streamed blocks vocoded beside T3's next block or in line (the probe's measurement, or the property)
            String overlapProperty = System.getProperty("localai.tts.overlapFlush", "").trim();
            r.put("stream_overlap", overlapProperty.isEmpty()
                    ? dev.localai.tts.core.tuning.WeightTypes.overlapStreaming(
                            dev.localai.tts.core.tuning.DtypeProbe.cached().streamOverlapMs())
                    : !"false".equals(overlapProperty));
            // the kernels a bf16 and an fp32 flow attend with
            r.put("bf16_attention", dev.localai.tts.core.nn.Bf16Attention.enabled()
                    ? "native " + dev.localai.tts.core.nn.Bf16Attention.path() : "libtorch");
            r.put("fp32_attention", dev.localai.tts.core.nn.Fp32Attention.enabled()
                    ? "native " + dev.localai.tts.core.nn.Fp32Attention.path() : "libtorch");
            r.put("t3_split_threads", Integer.getInteger("localai.tts.t3SplitThreads", Torch.splitThreads()));
            double[] rtf = new double[repeats];
            double[] first = new double[repeats];
            double[] streamedRtf = new double[repeats];
            double[] stall = new double[repeats];
            double[] gaps = new double[repeats];
            double audio = 0;
            double generation = 0;
            double streamedAudio = 0;
            String chunks = "";
            double cheaperS = Double.NaN;
            for (int i = 0; i < repeats; i++) {
                AudioClip clip = e.synthesize(SpeechRequest.builder(TEXT).seed(2L).maxTokens(UTTERANCE_TOKENS)
                        .build());
                audio = clip.stats().audioSeconds();
                generation += clip.stats().generationSeconds();
                rtf[i] = clip.stats().generationSeconds() / audio;
                Streamed st = streamed(e);
                first[i] = st.firstMs();
                streamedAudio = st.audioS();
                streamedRtf[i] = st.totalMs() / 1e3 / st.audioS();
                stall[i] = st.stallMs();
                gaps[i] = st.gaps();
                chunks = st.chunks();
                cheaperS = st.cheaperS();
            }
            r.put("audio_s", round(audio, 2));
            r.put("generation_s", round(generation / repeats, 2));
            r.put("rtf", round(median(rtf), 3));
            r.put("first_audio_ms", Math.round(median(first)));
            // the voice prompt the streamed requests' first block conditioned on, and its flow's solver steps: the
            // whole 10 s in 2 unless the engine measured that first audio would miss its target
            // (TtsOptions.Builder#firstAudioTarget)
            double promptS = e.lastFirstBlockPromptSeconds();
            r.put("first_block_prompt_s", Double.isNaN(promptS) ? "none" : (Object) round(promptS, 2));
            int steps = e.lastFirstBlockFlowSteps();
            r.put("first_block_flow_steps", steps == 0 ? "none" : (Object) steps);
            r.put("first_audio_target_ms", e.options().firstAudioTarget().toMillis());
            r.put("streamed_audio_s", round(streamedAudio, 2));
            // of it, what came from flow runs cheaper than the whole prompt in the checkpoint's steps (the first block
            // as above, later blocks where the player would otherwise have waited for them)
            r.put("streamed_cheaper_audio_s", Double.isNaN(cheaperS) ? "none" : (Object) round(cheaperS, 2));
            r.put("streamed_rtf", round(median(streamedRtf), 3));
            // the silence a real-time player of the stream would have inserted while waiting for audio
            r.put("streamed_stall_ms", Math.round(median(stall)));
            // how many times that player waited (the stall's gaps)
            r.put("streamed_gaps", Math.round(median(gaps)));
            // the last streamed request's chunks: "arrival ms+audio ms" each, for seeing where a player would wait
            r.put("streamed_chunks", chunks);
            if (repeats > 1) {
                r.put("rtf_range", range(rtf, 3));
                r.put("first_audio_ms_range", range(first, 0));
                // each request's in turn: the first after the engine's warm-up is the one a server's first user meets
                r.put("first_audio_ms_runs", runs(first));
                r.put("streamed_rtf_range", range(streamedRtf, 3));
                r.put("streamed_stall_ms_range", range(stall, 0));
            }
            // the first block's flow against its floor, in the engine's process state: timed after the engine was
            // closed, with the heap the voice clones below and the engine's release had left, the same flow took
            // 700-1000 ms against 530-600 in the engine (docs/performance.md, "Twenty-sixth round")
            flowFloor(r, Path.of(modelDir), firstBlockTokens);
            // what adding a voice costs (a server's upload, `tts speak --voice clip.wav`): a 10 s clip, the longest
            // prompt upstream uses, through the S3 tokenizer, the speaker encoder and the conditionals
            double[] clone = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                byte[] clip = dev.localai.tts.core.audio.WavWriter.pcm16(voiceLikeClip(10.0, 7L + i), 24_000);
                long a = System.nanoTime();
                e.addVoice("bench-" + i, clip);
                clone[i] = (System.nanoTime() - a) / 1e6;
            }
            r.put("voice_clone_ms", Math.round(median(clone)));
            if (repeats > 1) {
                r.put("voice_clone_ms_range", range(clone, 0));
            }
        } finally {
            deleteTree(voices);
        }
        ScalarType t3Type = WeightTypes.scalarType(dtype);
        try (T3 t3 = T3.load(Path.of(modelDir).resolve("t3_turbo_v1.safetensors"), Device.cpu(), t3Type)) {
            T3Bench.Params p = new T3Bench.Params(t3Type, 375, 30, t3Tokens, 5, 7);
            boolean int8Native = t3Type.value == ScalarType.Char.value
                    && dev.localai.tts.core.nn.Int8Matrix.nativeKernel();
            long bytes = t3WeightBytesPerToken(t3.config(), t3Type, int8Native, fused);
            // each run between two bandwidth measurements, its ratio against their mean: a run's steps and its floor
            // see the same minutes of a drifting machine, and a few slow steps (another guest, a JIT compilation on
            // one of two cores) move one run's mean, not the median of several
            double[] gbps = new double[repeats + 1];
            double[] mean = new double[repeats];
            double[] median = new double[repeats];
            double[] overFloor = new double[repeats];
            double[] prefill = new double[repeats];
            double[] cachedPrefill = new double[repeats];
            int positions = 0;
            gbps[0] = matvecGbps();
            for (int i = 0; i < repeats; i++) {
                T3Bench.Result t = T3Bench.run(t3, p, 0);
                gbps[i + 1] = matvecGbps();
                positions = t.prefillPositions();
                mean[i] = t.meanStepMs();
                median[i] = t.medianStepMs();
                prefill[i] = t.prefillMs();
                cachedPrefill[i] = t.cachedPrefillMs();
                overFloor[i] = t.meanStepMs() / floorMs(bytes, (gbps[i] + gbps[i + 1]) / 2);
            }
            double bandwidth = median(gbps);
            r.put("fp32_matvec_gbps", round(bandwidth, 1));
            r.put("fp32_matvec_gbps_before_after", Arrays.stream(gbps).mapToObj(g -> String.valueOf(round(g, 1)))
                    .collect(java.util.stream.Collectors.joining("/")));
            r.put("t3_prefill_positions", positions);
            r.put("t3_prefill_ms", Math.round(median(prefill)));
            r.put("t3_prefill_cached_voice_ms", Math.round(median(cachedPrefill)));
            r.put("t3_ms_per_token", round(median(mean), 1));
            r.put("t3_median_ms_per_token", round(median(median), 1));
            r.put("t3_weight_bytes_per_token", bytes);
            r.put("t3_floor_ms_per_token", round(floorMs(bytes, bandwidth), 1));
            r.put("t3_over_floor", round(median(overFloor), 2));
            if (repeats > 1) {
                r.put("t3_ms_per_token_range", range(mean, 1));
                r.put("t3_over_floor_range", range(overFloor, 2));
            }
        }
        CpuTimes end = CpuTimes.now();
        r.put("cpu_steal_pct", start == null || end == null ? Double.NaN : round(end.stealPercentSince(start), 1));
        EngineTargets.judge(r);
        return r;
    }

    /** The ms one decode step takes to read {@code bytes} of weights at {@code gbps} GB/s. */
    static double floorMs(long bytes, double gbps) {
        return bytes / (gbps * 1e9) * 1e3;
    }

    /** Tokens of S3Gen prompt of the built-in voice (10 s), which the engine benchmark speaks with. */
    static final int FLOW_PROMPT_TOKENS = 250;

    /**
     * The first streamed block's flow against its compute floor ({@link FlowFloor}), at the model's sizes (random
     * weights) with the flow weight type and kernels the engine chose: the tokens of the first flush (the first
     * block, the encoder's pre-lookahead and the vocoder's look-ahead, as the engine counts them), its ms (median of
     * 5), its GFLOP, the product rate at the flow's shapes right before and after (the floor uses their mean), the
     * floor and the ratio.
     */
    private static void flowFloor(Map<String, Object> r, Path modelDir, int firstBlockTokens) {
        WeightTypes.Plan plan = WeightTypes.choose(null, Device.cpu(), DtypeProbe::cached);
        S3GenConfig c;
        HiftConfig h;
        try (StateDict s3gen = StateDict.open(modelDir.resolve(S3GenFlow.CHECKPOINT), Device.cpu())) {
            c = S3GenFlow.inferConfig(s3gen).withAttentionInFp32(plan.flowAttentionFp32());
            h = HiftConfig.inferFrom(s3gen);
        }
        int tokens = dev.localai.tts.core.engine.Utterance.firstFlushTokens(c, h, firstBlockTokens);
        long frames = (long) c.upsampleStride() * (FLOW_PROMPT_TOKENS + tokens);
        double before = FlowFloor.productGflops(c, plan.flow(), frames);
        double ms = FlowFloor.flowMs(c, plan.flow(), FLOW_PROMPT_TOKENS, tokens, 5);
        double after = FlowFloor.productGflops(c, plan.flow(), frames);
        double gflop = 2 * S3GenFlow.multiplyAdds(c, FLOW_PROMPT_TOKENS + tokens) / 1e9;
        double gflops = (before + after) / 2;
        double floor = gflop / gflops * 1e3;
        r.put("flow_dtype", WeightTypes.name(plan.flow()) + (plan.flowAttentionFp32() ? " (attention fp32)" : ""));
        r.put("flow_first_block_tokens", FLOW_PROMPT_TOKENS + "+" + tokens);
        r.put("flow_first_block_ms", Math.round(ms));
        r.put("flow_first_block_gflop", round(gflop, 1));
        r.put("flow_product_gflops", Math.round(gflops));
        r.put("flow_product_gflops_before_after", Math.round(before) + "/" + Math.round(after));
        r.put("flow_floor_ms", Math.round(floor));
        r.put("flow_over_floor", round(ms / floor, 2));
    }

    /**
     * {@code seconds} of a voice-like test signal at 24 kHz, seeded: a gliding fundamental with its harmonics, a
     * syllable-rate envelope and a little noise (the speaker encoder and tokenizer see speech-shaped spectra, not a
     * tone; the timing does not depend on the content).
     */
    static float[] voiceLikeClip(double seconds, long seed) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        int n = (int) Math.round(seconds * 24_000);
        float[] out = new float[n];
        double phase = 0;
        for (int i = 0; i < n; i++) {
            double t = i / 24_000.0;
            double f0 = 140 + 30 * Math.sin(2 * Math.PI * 0.7 * t) + 10 * Math.sin(2 * Math.PI * 3.1 * t);
            phase += 2 * Math.PI * f0 / 24_000;
            double v = 0;
            for (int h = 1; h <= 12; h++) {
                v += Math.sin(h * phase) / h;
            }
            double syllables = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4.0 * t);
            out[i] = (float) (0.12 * syllables * v + 0.004 * (rng.nextDouble() * 2 - 1));
        }
        return out;
    }

    private static void deleteTree(Path dir) {
        try (var files = java.nio.file.Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
                java.nio.file.Files.deleteIfExists(f);
            }
        } catch (java.io.IOException | RuntimeException ignored) {
            // a temporary directory left behind is harmless
        }
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        int n = c.length;
        return n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    }

    /** Whole numbers in the order measured, comma separated. */
    static String runs(double[] v) {
        return Arrays.stream(v).mapToObj(x -> Long.toString(Math.round(x)))
                .collect(java.util.stream.Collectors.joining(","));
    }

    /** "min-max" of the runs, rounded to {@code digits}. */
    static String range(double[] v, int digits) {
        double lo = Arrays.stream(v).min().orElse(Double.NaN);
        double hi = Arrays.stream(v).max().orElse(Double.NaN);
        return digits == 0 ? Math.round(lo) + "-" + Math.round(hi) : round(lo, digits) + "-" + round(hi, digits);
    }

    /**
     * A streamed request: ms to its first non-empty chunk, ms to its end, its seconds of audio, the stall a real-time
     * player would have had ({@link #playbackStallMs}) and its non-empty chunks as "arrival ms+audio ms", comma
     * separated.
     */
    record Streamed(double firstMs, double totalMs, double audioS, double stallMs, int gaps, String chunks,
                    double cheaperS) {}

    /** A streamed request of the same length (the voice is prepared). */
    private static Streamed streamed(TtsEngine e) {
        long t0 = System.nanoTime();
        double first = Double.NaN;
        long samples = 0;
        int rate = e.modelInfo().sampleRate();
        java.util.List<double[]> chunks = new java.util.ArrayList<>(); // arrival ms, seconds of audio
        double cheaper;
        try (SpeechStream s = e.stream(SpeechRequest.builder(TEXT).seed(3L).maxTokens(UTTERANCE_TOKENS).build())) {
            while (s.hasNext()) {
                AudioChunk c = s.next();
                double at = (System.nanoTime() - t0) / 1e6;
                if (c.samples().length > 0 && Double.isNaN(first)) {
                    first = at;
                }
                chunks.add(new double[] {at, c.samples().length / (double) rate});
                samples += c.samples().length;
            }
            cheaper = s.stats().cheaperAudioSeconds();
        }
        double[] arrival = chunks.stream().mapToDouble(c -> c[0]).toArray();
        double[] seconds = chunks.stream().mapToDouble(c -> c[1]).toArray();
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < arrival.length; i++) {
            if (seconds[i] > 0) {
                list.append(list.isEmpty() ? "" : ",").append(Math.round(arrival[i])).append('+')
                        .append(Math.round(seconds[i] * 1e3));
            }
        }
        Playback played = playback(arrival, seconds);
        return new Streamed(first, (System.nanoTime() - t0) / 1e6, samples / (double) rate, played.stallMs(),
                played.gaps(), list.toString(), cheaper);
    }

    /**
     * The silence a real-time player would insert, in ms (pure logic): it starts playing when the first audio arrives
     * (at {@code arrivalMs}, ms from the request) and plays each chunk's {@code seconds} of audio in turn; a chunk that
     * arrives after the audio before it has played out stalls it until then. 0 when the stream keeps ahead.
     */
    static double playbackStallMs(double[] arrivalMs, double[] seconds) {
        return playback(arrivalMs, seconds).stallMs();
    }

    /** How many times that player waits ({@link #playbackStallMs}'s stalls, counted). */
    static int playbackGaps(double[] arrivalMs, double[] seconds) {
        return playback(arrivalMs, seconds).gaps();
    }

    /** What the real-time player went through: its silence in ms and how many times it waited. */
    record Playback(double stallMs, int gaps) {}

    private static Playback playback(double[] arrivalMs, double[] seconds) {
        double runsOut = Double.NaN; // when the audio received so far has played out
        double stall = 0;
        int gaps = 0;
        for (int i = 0; i < arrivalMs.length; i++) {
            if (seconds[i] <= 0) {
                continue;
            }
            if (Double.isNaN(runsOut)) {
                runsOut = arrivalMs[i];
            } else if (arrivalMs[i] > runsOut) {
                stall += arrivalMs[i] - runsOut;
                gaps++;
                runsOut = arrivalMs[i];
            }
            runsOut += seconds[i] * 1e3;
        }
        return new Playback(stall, gaps);
    }

    /**
     * Bytes of weights one T3 decode step reads: per block the fused q|k|v, attention output and both MLP matrices
     * with their biases and two layer norms, then the final norm, the speech head, one position and one token row.
     * FBGEMM's int8 matrices read an fp32 scale and an int32 row sum per row, the native kernel's the scale only.
     */
    static long t3WeightBytesPerToken(T3Config c, ScalarType dtype) {
        return t3WeightBytesPerToken(c, dtype, false, false);
    }

    /**
     * {@link #t3WeightBytesPerToken(T3Config, ScalarType)} for int8 matrices on the native kernel
     * ({@code int8Native}: no row sums) and a speech head in fp16 ({@code halfHead}, the fused decode's).
     */
    static long t3WeightBytesPerToken(T3Config c, ScalarType dtype, boolean int8Native, boolean halfHead) {
        long d = c.nEmbd();
        long inner = c.nInner();
        long matrices = d * 3 * d + d * d + d * inner + inner * d;
        long rows = 3 * d + d + inner + d;
        long perBlockRest = rows + 4 * d; // biases and the two layer norms
        long v = c.speechTokensDictSize();
        long head = v * d;
        long rest = 2 * d + v + 2 * d; // final norm, the head's bias, one position and one token row
        if (dtype.value == ScalarType.Char.value) {
            long perRow = int8Native ? 4 : 8;
            return c.nLayer() * (matrices + perRow * rows + 4 * perBlockRest) + 4 * rest + (halfHead ? 2 : 4) * head;
        }
        long bytes = dtype.value == ScalarType.Float.value ? 4 : 2;
        return (c.nLayer() * (matrices + perBlockRest) + rest + head) * bytes;
    }

    /**
     * Bandwidth (GB/s) of an fp32 matrix-vector product over a 512 MB matrix, its rows split over one thread per
     * core (as the engine's decode splits its products): the best of a few runs after a warm-up.
     */
    static double matvecGbps() throws Exception {
        int threads = Runtime.getRuntime().availableProcessors();
        long rows = 16384;
        long cols = 8192;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (PointerScope scope = new PointerScope()) {
            Tensor w = torch.randn(rows, cols);
            Tensor x = torch.randn(cols);
            Tensor y = torch.empty(rows);
            long per = (rows + threads - 1) / threads;
            double[] ms = new double[8];
            for (int i = 0; i < ms.length; i++) {
                long t0 = System.nanoTime();
                List<Future<?>> fs = new ArrayList<>();
                for (int p = 0; p < threads; p++) {
                    long from = p * per;
                    long len = Math.min(per, rows - from);
                    fs.add(pool.submit(() -> {
                        try (PointerScope s = new PointerScope()) {
                            torch.mv_out(y.narrow(0, from, len), w.narrow(0, from, len), x);
                        }
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            double best = Arrays.stream(ms, 1, ms.length).min().orElseThrow();
            return rows * cols * 4.0 / (best / 1e3) / 1e9;
        } finally {
            pool.shutdownNow();
        }
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException | RuntimeException e) {
            return "?";
        }
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /** One JSON object (strings escaped; numbers as they are). */
    static String json(Map<String, Object> r) {
        StringBuilder b = new StringBuilder("{");
        r.forEach((k, v) -> {
            if (b.length() > 1) {
                b.append(", ");
            }
            b.append('"').append(k).append("\": ");
            if (v instanceof Number n) {
                b.append(Double.isFinite(n.doubleValue()) ? n.toString() : "null");
            } else {
                b.append('"').append(escape(String.valueOf(v))).append('"');
            }
        });
        return b.append('}').toString();
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.toString();
    }
}
