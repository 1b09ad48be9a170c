package dev.localai.tts.core.bench;

import dev.localai.tts.core.model.t3.BatchDecoder;
import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.model.t3.T3;
import dev.localai.tts.core.model.t3.T3Cond;
import dev.localai.tts.core.model.t3.T3Config;
import dev.localai.tts.core.model.t3.T3Session;
import dev.localai.tts.core.model.t3.TokenSampler;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * Aggregate T3 decode throughput of concurrent sessions with and without the {@link BatchDecoder}, at the real
 * Turbo T3 size (GPT-2 medium, 24 x 1024, random weights) or a smaller profile (a program, not a test).
 *
 * <pre>
 * tts-core/bench/run.sh T3DecodeBench [--profile turbo|nano|tiny] [--sessions 1,4,16] [--steps 32] [--threads 0]
 *     [--device cpu|cuda:N] [--dtype fp32|bf16|fp16|int8]
 * (int8: the CPU's int8 blocks on this project's native kernel, as the probe's int8-native; run it with
 * JAVA_TOOL_OPTIONS=-Dlocalai.tts.fusedDecode=false for LibTorch's operations between the kernels)
 * </pre>
 *
 * Each session prefills 1 + 40 + 30 + 1 positions (speaker, prompt, text, start), then decodes {@code steps}
 * tokens; sampling is greedy on the random weights' logits, and a stop token is never drawn before the cap, so every
 * session does the same work.
 */
public final class T3DecodeBench {
    private T3DecodeBench() {}

    public static void main(String[] argv) throws Exception {
        BenchArgs a = new BenchArgs(argv);
        String profile = a.get("profile", "turbo");
        int[] sessions = a.ints("sessions", "1,4,16");
        int steps = a.getInt("steps", 32);
        Device device = Device.parse(a.get("device", "cpu"));
        ScalarType dtype = switch (a.get("dtype", "fp32")) {
            case "fp32" -> ScalarType.Float;
            case "bf16" -> ScalarType.BFloat16;
            case "fp16" -> ScalarType.Half;
            case "int8" -> ScalarType.Char;
            default -> throw new IllegalArgumentException("dtype must be fp32, bf16, fp16 or int8");
        };
        Torch.init(a.getInt("threads", 0));
        T3Config c = switch (profile) {
            case "turbo" -> T3Config.turbo();
            case "nano" -> T3Config.nano();
            case "tiny" -> T3Config.tiny();
            default -> throw new IllegalArgumentException("profile must be turbo, nano or tiny");
        };
        System.out.printf("T3DecodeBench: %s T3 (%d layers x %d), random %s weights on %s, %d decode steps per "
                + "session, %d LibTorch threads, %s%n", profile, c.nLayer(), c.nEmbd(), a.get("dtype", "fp32"), device,
                steps, Torch.threads(), BenchArgs.machine());
        torch.manual_seed(1);
        try (T3 t3 = create(c, device, dtype)) {
            Tensor spk = torch.randn(1, c.speakerEmbedSize());
            Tensor prompt = torch.randint(0, 6561, new long[] {1, 40});
            T3Cond cond = new T3Cond(spk, prompt);
            run(t3, cond, 1, steps, false); // warm-up
            System.out.println();
            System.out.println("| sessions | batched | decode tokens/s (all sessions) | ms per step per session "
                    + "| mean batch |");
            System.out.println("|---|---|---|---|---|");
            for (int n : sessions) {
                run(t3, cond, n, steps, n > 1);
                if (n > 1) {
                    run(t3, cond, n, steps, false);
                }
            }
        }
    }

    /** A T3 of config {@code c} with random weights in {@code dtype} on {@code device}. */
    public static T3 create(T3Config c, Device device, ScalarType dtype) {
        ParamSource cpu = RandomParams.normal(ScalarType.Float, 0.02);
        if (!device.isCuda() && dtype == ScalarType.Char) {
            dev.localai.tts.core.nn.Int8Matrix.useNativeKernel(true);
            dev.localai.tts.core.nn.CpuAttention.useForDecode(true);
            return T3.create(cpu, c, device, true);
        }
        if (!device.isCuda() && dtype == ScalarType.Float) {
            return T3.create(cpu, c, device);
        }
        return T3.create(onDevice(cpu, device, dtype), c, device);
    }

    private static ParamSource onDevice(ParamSource p, Device device, ScalarType dtype) {
        return new ParamSource() {
            @Override
            public Tensor take(String key, long... shape) {
                try (Tensor t = p.take(key, shape); org.bytedeco.pytorch.Device d = device.torchDevice()) {
                    return t.to(d, dtype).retainReference();
                }
            }

            @Override
            public void skip(String key) {
                p.skip(key);
            }

            @Override
            public ParamSource sub(String name) {
                return onDevice(p.sub(name), device, dtype);
            }

            @Override
            public ScalarType dtype() {
                return dtype;
            }
        };
    }

    /**
     * Runs {@code n} sessions of {@code steps} decode steps each (batched through a {@link BatchDecoder} or each on
     * its own thread) and prints one table row; returns the aggregate decode tokens per second.
     */
    public static double run(T3 t3, T3Cond cond, int n, int steps, boolean batched) throws Exception {
        SamplingParams p = new SamplingParams(0.8, 1000, 0.95, 1.2, steps);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try (BatchDecoder decoder = batched ? BatchDecoder.start(t3, n) : null) {
            CountDownLatch prefilled = new CountDownLatch(n);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                fs.add(pool.submit(() -> {
                    int[] text = new int[30];
                    for (int j = 0; j < text.length; j++) {
                        text[j] = (k * 131 + j * 17) % 1000;
                    }
                    try (T3Session s = t3.start(cond, text, p, noStop(), decoder)) {
                        s.next(); // prefill, outside the timed part
                        prefilled.countDown();
                        go.await();
                        int count = 0;
                        while (s.next() != T3Session.END) {
                            count++;
                        }
                        return count;
                    }
                }));
            }
            prefilled.await();
            long t0 = System.nanoTime();
            go.countDown();
            long tokens = 0;
            for (Future<Integer> f : fs) {
                tokens += f.get();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("| %d | %s | %.1f | %.1f | %s |%n", n, batched ? "yes" : "no", tokens / s,
                    s * 1000 / (tokens / (double) n), batched ? String.format("%.2f", decoder.meanBatch()) : "-");
            return tokens / s;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Greedy over everything but the stop token (random weights would stop at random places). */
    private static TokenSampler noStop() {
        return probs -> {
            try (Tensor q = probs.narrow(0, 0, T3.SPEECH_VOCAB); Tensor i = q.argmax()) {
                return (int) i.item_long();
            }
        };
    }
}
