package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.tuning.DtypeProbe;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Where one T3 decode step's time goes, at the real Turbo sizes (random weights, CPU): each block's parts timed
 * separately over all 24 layers (layer norms, fused q|k|v product, single-query attention with the cache write,
 * attention output product, MLP products, residual adds), then the speech head and Turbo's sampling, at a cache of
 * {@code --positions} (a 10 s voice prompt and 30 text tokens is about 410, plus one per generated token). The parts
 * run one after another, as in a real step, over {@code --steps} steps; the same step is also timed whole. A program
 * that prints figures, not a test.
 *
 * <pre>tts-core/bench/run.sh dev.localai.tts.core.model.t3.T3StepBreakdown [--dtype int8|fp32] [--positions 500]
 *     [--steps 20] [--rounds 3]</pre>
 */
public final class T3StepBreakdown {
    private T3StepBreakdown() {}

    public static void main(String[] args) {
        Map<String, String> a = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String dtype = a.getOrDefault("dtype", "int8");
        int positions = Integer.parseInt(a.getOrDefault("positions", "500"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "20"));
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "3"));
        Torch.init(0);
        boolean int8 = dtype.equals("int8");
        if (!int8 && !dtype.equals("fp32")) {
            throw new IllegalArgumentException("--dtype int8 or fp32");
        }
        T3Config c = T3Config.turbo();
        System.out.printf("CPU: %s, LibTorch threads %d, T3 turbo %s, cache of %d positions%n", DtypeProbe.cpuModel(),
                torch.get_num_threads(), dtype, positions);
        try (T3 t3 = T3.create(RandomParams.normal(torch.ScalarType.Float, 0.02), c, Device.cpu(), int8);
             KvCache cache = t3.newCache(positions + steps * (rounds + 1) * 2);
             DecodeBuffers buf = t3.newBuffers();
             PointerScope scope = new PointerScope()) {
            t3.prefillHidden(torch.randn(positions, c.nEmbd()).mul_(new Scalar(0.1)), cache);
            LogitsProcessor processor = new LogitsProcessor(SamplingParams.defaults());
            TokenSampler sampler = TokenSampler.seeded(1);
            Tensor logits = torch.empty(c.speechTokensDictSize());
            Tensor probs = torch.empty(c.speechTokensDictSize());
            Tensor history = torch.randint(c.speechTokensDictSize() - 2, new long[] {100}).to(torch.ScalarType.Long);
            int pos = positions; // every step writes this cache row again and attends over pos + 1 positions
            String[] names = {"layer norms", "q|k|v product", "attention (with cache write)", "attention out product",
                "MLP in product", "gelu + MLP out product", "residual adds", "speech head", "sampling"};
            for (int r = 0; r <= rounds; r++) {
                double[] part = new double[names.length];
                double whole = 0;
                for (int s = 0; s < steps; s++) {
                    try (PointerScope step = new PointerScope()) {
                        buf.x.copy_(t3.speech_emb.row(17).add(t3.tfmr.wpe.weight.select(0, pos)));
                        for (int l = 0; l < t3.tfmr.h.length; l++) {
                            GPT2Block b = t3.tfmr.h[l];
                            int layer = l;
                            Tensor[] h = new Tensor[1];
                            part[0] += time(() -> h[0] = b.ln_1.forward(buf.x).retainReference());
                            part[1] += time(() -> b.attn.c_attn.forwardVec(h[0], buf.qkv));
                            // attention = the attention module's step minus its two products, each timed alone
                            double attnStep = time(() -> b.attn.step(h[0], pos, cache, layer, buf));
                            double qkv = time(() -> b.attn.c_attn.forwardVec(h[0], buf.qkv));
                            double proj = time(() -> b.attn.c_proj.forwardVec(buf.qkv.narrow(0, 0, c.nEmbd()),
                                    buf.proj));
                            b.attn.step(h[0], pos, cache, layer, buf);
                            h[0].releaseReference();
                            part[2] += attnStep - qkv - proj;
                            part[3] += proj;
                            part[6] += time(() -> buf.x.add_(buf.proj));
                            part[0] += time(() -> h[0] = b.ln_2.forward(buf.x).retainReference());
                            double fc = time(() -> b.mlp.c_fc.forwardVec(h[0], buf.inner));
                            double mlp = time(() -> b.mlp.step(h[0], buf));
                            h[0].releaseReference();
                            part[4] += fc;
                            part[5] += mlp - fc;
                            part[6] += time(() -> buf.x.add_(buf.proj));
                        }
                        Tensor hidden = t3.tfmr.ln_f.forward(buf.x);
                        part[7] += time(() -> t3.speechLogits(hidden, buf, logits));
                        part[8] += time(() -> {
                            torch.softmax_out(probs, processor.process(logits, history), -1);
                            sampler.sample(probs);
                        });
                        cache.setLength(pos); // the whole step writes row pos again
                        whole += time(() -> {
                            t3.speechLogits(t3.stepHidden(17, pos, cache, buf), buf, logits);
                            torch.softmax_out(probs, processor.process(logits, history), -1);
                            sampler.sample(probs);
                        });
                    }
                }
                if (r == 0) {
                    continue; // warm-up round
                }
                StringBuilder line = new StringBuilder("round " + r + ", ms per step:");
                double sum = 0;
                for (int i = 0; i < names.length; i++) {
                    line.append(String.format(" %s %.2f |", names[i], part[i] / steps));
                    sum += part[i] / steps;
                }
                System.out.println(line.append(String.format(" parts %.2f, whole step %.2f", sum, whole / steps)));
            }
        }
    }

    /** ms of one run of {@code op} (its temporaries freed after the clock stops). */
    private static double time(Runnable op) {
        try (PointerScope s = new PointerScope()) {
            long t0 = System.nanoTime();
            op.run();
            return (System.nanoTime() - t0) / 1e6;
        }
    }
}
