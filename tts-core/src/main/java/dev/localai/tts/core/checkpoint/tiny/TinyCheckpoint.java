package dev.localai.tts.core.checkpoint.tiny;

import dev.localai.tts.core.checkpoint.DType;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.checkpoint.TensorInfo;
import dev.localai.tts.core.checkpoint.pickle.CondsPt;
import dev.localai.tts.core.checkpoint.pickle.StoredTensor;
import dev.localai.tts.core.hub.ChatterboxTurboFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes a seeded random checkpoint in the official Chatterbox Turbo layout: the same file names and state-dict keys as
 * {@code ResembleAI/chatterbox-turbo}, with the shapes of a supplied inventory (normally the model parts'
 * {@code stateDictShapes(config)} of the tiny config), a small real byte-level BPE tokenizer and a {@code conds.pt}.
 *
 * <p>Initialisation per key kind: norm scales ({@code *.weight} of rank 1) and Snake alphas around 1, biases and
 * running means small, running variances positive, {@code num_batches_tracked} zero (int64), weights
 * N(0, 1/sqrt(fan_in)) (HF GPT-2 {@code Conv1D} weights are stored (in, out)), the S3 tokenizer's Hann window and Slaney
 * mel filterbank exact. Each tensor has its own random stream (seed, file, key), so the values of one key do not depend
 * on the other keys.
 */
public final class TinyCheckpoint {
    private TinyCheckpoint() {}

    /**
     * Sizes of the generated conditionals.
     *
     * @param t3PromptTokens  length of t3.cond_prompt_speech_tokens (375)
     * @param genPromptTokens length of gen.prompt_token; prompt_feat has twice as many frames
     * @param speakerDim      t3.speaker_emb width (256)
     * @param xvectorDim      gen.embedding width (192)
     * @param melBins         80
     * @param speechVocab     S3 token values are drawn below this (6561)
     */
    public record CondsSpec(int t3PromptTokens, int genPromptTokens, int speakerDim, int xvectorDim, int melBins,
            int speechVocab) {
        /** The sizes of the golden tiny conds.pt (a 2 s reference). */
        public static CondsSpec tiny() {
            return new CondsSpec(375, 50, 256, 192, 80, 6561);
        }

        /** The sizes of the official conds.pt (a 10 s reference). */
        public static CondsSpec turbo() {
            return new CondsSpec(375, 250, 256, 192, 80, 6561);
        }

        /** These sizes with an S3Gen prompt of {@code tokens} speech tokens (25 a second). */
        public CondsSpec withGenPromptTokens(int tokens) {
            return new CondsSpec(t3PromptTokens, tokens, speakerDim, xvectorDim, melBins, speechVocab);
        }
    }

    /** Writes every file into {@code dir} (created if needed). */
    public static void generate(Path dir, long seed, Map<String, ? extends Map<String, long[]>> inventory,
            int textVocabSize, CondsSpec conds) throws IOException {
        Files.createDirectories(dir);
        for (Map.Entry<String, ? extends Map<String, long[]>> file : inventory.entrySet()) {
            writeWeights(dir.resolve(file.getKey()), seed, file.getKey(), file.getValue());
        }
        TinyBpe.train(textVocabSize).write(dir);
        randomConds(seed, conds).write(dir.resolve(ChatterboxTurboFiles.CONDS));
    }

    /** The key/shape inventory of existing safetensors files (e.g. the golden tiny checkpoint). */
    public static Map<String, LinkedHashMap<String, long[]>> inventoryOf(Path dir, List<String> files) {
        Map<String, LinkedHashMap<String, long[]>> inv = new LinkedHashMap<>();
        for (String f : files) {
            LinkedHashMap<String, long[]> keys = new LinkedHashMap<>();
            try (SafeTensors st = SafeTensors.open(dir.resolve(f))) {
                for (String k : st.keys()) {
                    keys.put(k, st.info(k).shape());
                }
            }
            inv.put(f, keys);
        }
        return inv;
    }

    /**
     * The tiny-profile inventory shipped as a resource (taken from the headers of the golden tiny checkpoint), for
     * use until every model part supplies its own {@code stateDictShapes}.
     */
    public static Map<String, LinkedHashMap<String, long[]>> bundledTinyInventory() {
        Map<String, LinkedHashMap<String, long[]>> inv = new LinkedHashMap<>();
        try (InputStream in = TinyCheckpoint.class.getResourceAsStream("tiny-inventory.tsv");
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("\t");
                long[] shape = parts.length < 3 || parts[2].isEmpty() ? new long[0]
                        : Arrays.stream(parts[2].split(",")).mapToLong(Long::parseLong).toArray();
                inv.computeIfAbsent(parts[0], k -> new LinkedHashMap<>()).put(parts[1], shape);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return inv;
    }

    /** int64 for BatchNorm's counter, float32 for everything else (as in the official files). */
    public static DType dtypeOf(String key) {
        return key.endsWith("num_batches_tracked") ? DType.I64 : DType.F32;
    }

    private static void writeWeights(Path file, long seed, String fileName, Map<String, long[]> keys) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, long[]> e : keys.entrySet()) {
                tensors.put(e.getKey(), init(seed, fileName, e.getKey(), e.getValue()).toTensor());
            }
            SafeTensorsWriter.write(file, tensors);
        } finally {
            tensors.values().forEach(Tensor::close);
        }
    }

    static long streamSeed(long seed, String file, String key) {
        long h = 0xcbf29ce484222325L; // FNV-1a 64
        for (byte b : (file + "/" + key).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h ^ (seed * 0x9E3779B97F4A7C15L);
    }

    /** Random (or, for the fixed buffers, exact) values for one key. */
    static StoredTensor init(long seed, String fileName, String key, long[] shape) {
        int n = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
        Random rnd = new Random(streamSeed(seed, fileName, key));
        String leaf = key.substring(key.lastIndexOf('.') + 1);
        if (dtypeOf(key) == DType.I64) {
            return StoredTensor.ofLongs(shape, new long[n]);
        }
        float[] v = new float[n];
        if (leaf.equals("window") && shape.length == 1) {
            for (int i = 0; i < n; i++) {
                v[i] = (float) (0.5 - 0.5 * Math.cos(2 * Math.PI * i / n)); // periodic Hann
            }
        } else if (leaf.equals("_mel_filters") && shape.length == 2) {
            v = slaneyMel(16000, (int) (2 * (shape[1] - 1)), (int) shape[0]);
        } else if (leaf.equals("running_var")) {
            fill(v, i -> 1 + 0.2 * rnd.nextDouble());
        } else if (leaf.equals("running_mean") || leaf.startsWith("bias")) {
            fill(v, i -> 0.05 * rnd.nextGaussian());
        } else if (leaf.equals("alpha") || (leaf.equals("weight") && shape.length == 1)
                || leaf.equals("original0")) {
            fill(v, i -> 1 + 0.1 * rnd.nextGaussian()); // norm scales, Snake alphas, weight-norm magnitudes
        } else if (shape.length >= 2) {
            long fanIn = isHfConv1D(key) ? shape[0] : n / shape[0];
            double std = 1 / Math.sqrt(Math.max(1, fanIn));
            fill(v, i -> std * rnd.nextGaussian());
        } else {
            fill(v, i -> 0.05 * rnd.nextGaussian());
        }
        return StoredTensor.ofFloats(shape, v);
    }

    /** GPT-2's Conv1D layers keep their weight as (in, out). */
    static boolean isHfConv1D(String key) {
        return key.matches(".*\\.(c_attn|c_proj|c_fc)\\.weight");
    }

    private static void fill(float[] v, java.util.function.IntToDoubleFunction f) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) f.applyAsDouble(i);
        }
    }

    /** librosa.filters.mel(sr, n_fft, n_mels) with its defaults (Slaney scale and area normalisation), float32. */
    static float[] slaneyMel(int sr, int nFft, int nMels) {
        int bins = nFft / 2 + 1;
        double[] fft = new double[bins];
        for (int i = 0; i < bins; i++) {
            fft[i] = (double) sr / 2 * i / (bins - 1);
        }
        double lo = hzToMel(0);
        double hi = hzToMel(sr / 2.0);
        double[] melF = new double[nMels + 2];
        for (int i = 0; i < melF.length; i++) {
            melF[i] = melToHz(lo + (hi - lo) * i / (nMels + 1));
        }
        float[] w = new float[nMels * bins];
        for (int m = 0; m < nMels; m++) {
            double d0 = melF[m + 1] - melF[m];
            double d1 = melF[m + 2] - melF[m + 1];
            double enorm = 2.0 / (melF[m + 2] - melF[m]);
            for (int k = 0; k < bins; k++) {
                double lower = -(melF[m] - fft[k]) / d0;
                double upper = (melF[m + 2] - fft[k]) / d1;
                float tri = (float) Math.max(0, Math.min(lower, upper));
                w[m * bins + k] = (float) (tri * enorm);
            }
        }
        return w;
    }

    private static final double F_SP = 200.0 / 3;
    private static final double MIN_LOG_HZ = 1000;
    private static final double MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
    private static final double LOGSTEP = Math.log(6.4) / 27;

    static double hzToMel(double f) {
        return f >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOGSTEP : f / F_SP;
    }

    static double melToHz(double m) {
        return m >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOGSTEP * (m - MIN_LOG_MEL)) : F_SP * m;
    }

    /** Random conditionals in the official structure. */
    public static CondsPt randomConds(long seed, CondsSpec s) {
        Random rnd = new Random(streamSeed(seed, ChatterboxTurboFiles.CONDS, ""));
        float[] spk = new float[s.speakerDim()];
        double norm = 0;
        for (int i = 0; i < spk.length; i++) {
            spk[i] = (float) rnd.nextGaussian();
            norm += spk[i] * spk[i];
        }
        for (int i = 0; i < spk.length; i++) {
            spk[i] = (float) (spk[i] / Math.sqrt(norm)); // VoiceEncoder embeddings are L2-normalised
        }
        long[] t3Tokens = new long[s.t3PromptTokens()];
        for (int i = 0; i < t3Tokens.length; i++) {
            t3Tokens[i] = rnd.nextInt(s.speechVocab());
        }
        long[] genTokens = new long[s.genPromptTokens()];
        for (int i = 0; i < genTokens.length; i++) {
            genTokens[i] = rnd.nextInt(s.speechVocab());
        }
        int frames = 2 * s.genPromptTokens();
        float[] feat = new float[frames * s.melBins()];
        for (int i = 0; i < feat.length; i++) {
            feat[i] = (float) (-6 + 2 * rnd.nextGaussian()); // log-mel magnitudes
        }
        float[] xvec = new float[s.xvectorDim()];
        for (int i = 0; i < xvec.length; i++) {
            xvec[i] = (float) rnd.nextGaussian();
        }
        return new CondsPt(
                StoredTensor.ofFloats(new long[] {1, s.speakerDim()}, spk),
                StoredTensor.ofLongs(new long[] {1, t3Tokens.length}, t3Tokens),
                StoredTensor.ofFloats(new long[] {1, 1, 1}, new float[] {0.5f}),
                StoredTensor.ofLongs(new long[] {1, genTokens.length}, genTokens),
                StoredTensor.ofLongs(new long[] {1}, new long[] {genTokens.length}),
                StoredTensor.ofFloats(new long[] {1, frames, s.melBins()}, feat),
                StoredTensor.ofFloats(new long[] {1, s.xvectorDim()}, xvec));
    }

    /** Keys whose generated dtype differs from the official files: none expected; used by tests. */
    static List<String> dtypeMismatches(Path dir, String file) {
        List<String> bad = new ArrayList<>();
        try (SafeTensors st = SafeTensors.open(dir.resolve(file))) {
            for (String k : st.keys()) {
                TensorInfo info = st.info(k);
                if (info.dtype() != dtypeOf(k)) {
                    bad.add(k);
                }
            }
        }
        return bad;
    }
}
