package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.DecoderBlockKernel;
import dev.localai.tts.core.nn.Int8Matrix;
import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.tuning.DtypeProbe;
import java.util.Arrays;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One int8 T3 decode step (the 24 blocks, the final norm and the speech head, at the real Turbo sizes, random
 * weights) in four forms, timed by turns in one process so that the machine's drift hits them alike: LibTorch's
 * operations between the native int8 product and decode attention, the whole block as one native call
 * ({@link DecoderBlockKernel}) with an fp32, an fp16 and an int8 cache. Each form has its own cache of
 * {@code --positions} rows (a 10 s voice prompt and 30 text tokens is about 410, plus one per generated token); each
 * step writes row {@code positions} again. A program that prints figures, not a test.
 *
 * <pre>tts-core/bench/run.sh dev.localai.tts.core.model.t3.T3DecodeFormsBench [--positions 500] [--steps 20]
 *     [--rounds 5]</pre>
 */
public final class T3DecodeFormsBench {
    private T3DecodeFormsBench() {}

    private record Form(String name, boolean fused, dev.localai.tts.core.nn.KvType cache) {}

    public static void main(String[] args) {
        Map<String, String> a = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int positions = Integer.parseInt(a.getOrDefault("positions", "500"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "20"));
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "5"));
        Torch.init(0);
        if (!DecoderBlockKernel.available()) {
            System.out.println("the native kernels are not loaded here: nothing to compare");
            return;
        }
        Int8Matrix.useNativeKernel(true);
        dev.localai.tts.core.nn.CpuAttention.useForDecode(true);
        T3Config c = T3Config.turbo();
        dev.localai.tts.core.nn.KvType fp32 = dev.localai.tts.core.nn.KvType.FP32;
        Form[] forms = {new Form("LibTorch ops between native kernels", false, fp32),
            new Form("fused block, fp32 cache", true, fp32),
            new Form("fused block, fp16 cache", true, dev.localai.tts.core.nn.KvType.FP16),
            new Form("fused block, int8 cache", true, dev.localai.tts.core.nn.KvType.INT8)};
        System.out.printf("CPU: %s, LibTorch threads %d, int8 T3 turbo, cache of %d positions, %d steps x %d rounds%n",
                DtypeProbe.cpuModel(), torch.get_num_threads(), positions, steps, rounds);
        try (T3 t3 = T3.create(RandomParams.normal(torch.ScalarType.Float, 0.02), c, Device.cpu(), true);
             PointerScope scope = new PointerScope()) {
            KvCache[] caches = new KvCache[forms.length];
            DecodeBuffers[] bufs = new DecodeBuffers[forms.length];
            Tensor prompt = torch.randn(positions, c.nEmbd()).mul_(new Scalar(0.1));
            for (int f = 0; f < forms.length; f++) {
                DecoderBlockKernel.use(forms[f].fused());
                DecoderBlockKernel.useCacheType(forms[f].cache());
                caches[f] = t3.newCache(positions + 1);
                bufs[f] = t3.newBuffers();
                t3.prefillHidden(prompt, caches[f]);
            }
            Tensor logits = torch.empty(c.speechTokensDictSize());
            double[][] ms = new double[forms.length][rounds];
            for (int r = -1; r < rounds; r++) { // round -1 warms up
                for (int f = 0; f < forms.length; f++) {
                    DecoderBlockKernel.use(forms[f].fused());
                    long t0 = System.nanoTime();
                    for (int s = 0; s < steps; s++) {
                        try (PointerScope step = new PointerScope()) {
                            caches[f].setLength(positions); // the step writes row `positions` again
                            t3.speechLogits(t3.stepHidden(17, positions, caches[f], bufs[f]), bufs[f], logits);
                        }
                    }
                    if (r >= 0) {
                        ms[f][r] = (System.nanoTime() - t0) / 1e6 / steps;
                    }
                }
            }
            for (int f = 0; f < forms.length; f++) {
                double[] m = ms[f].clone();
                Arrays.sort(m);
                System.out.printf("%-40s median %6.2f ms/step (rounds %s), cache %s%n", forms[f].name(),
                        m[m.length / 2], Arrays.toString(Arrays.stream(ms[f]).map(x -> Math.round(x * 10) / 10.0)
                                .toArray()), caches[f].type() == null ? "libtorch" : caches[f].type().label());
            }
            for (int f = 0; f < forms.length; f++) {
                caches[f].close();
                bufs[f].close();
            }
        }
    }
}
