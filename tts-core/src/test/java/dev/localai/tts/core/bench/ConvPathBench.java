package dev.localai.tts.core.bench;

import dev.localai.tts.core.model.hift.HiFTGenerator;
import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.s3gen.RandomParams;
import dev.localai.tts.core.model.s3gen.S3GenConfig;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
import dev.localai.tts.core.nn.Conv;
import dev.localai.tts.core.nn.ConvShape;
import dev.localai.tts.core.runtime.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * What the convolution rule of issue 12 costs, measured in one run at the official Turbo sizes (random weights):
 * HiFT and the S3Gen flow per second of audio with {@link Conv}'s rule (oneDNN where its layouts need no padding,
 * LibTorch's reference kernels elsewhere) against MKLDNN switched off for the whole process, plus every shape the
 * rule routes away from oneDNN, timed both ways. (oneDNN on those shapes is the unsafe path: its time is shown for
 * the comparison only.)
 *
 * <pre>tts-core/bench/run.sh ConvPathBench [--seconds 5] [--repeats 3]</pre>
 */
public final class ConvPathBench {
    private ConvPathBench() {}

    public static void main(String[] args) throws Exception {
        BenchArgs a = new BenchArgs(args);
        double seconds = Double.parseDouble(a.get("seconds", "5"));
        int repeats = a.getInt("repeats", 3);
        Torch.init(a.getInt("threads", 0));
        System.out.println("CPU: " + cpu() + ", LibTorch threads " + torch.get_num_threads());
        long frames = Math.round(seconds * 50);
        Generator g = torch.createCPUGenerator(1);
        try (PointerScope scope = new PointerScope();
             HiFTGenerator hift = HiFTGenerator.load(new RandomParams(3)::take, HiftConfig.turbo());
             S3GenFlow flow = S3GenFlow.random(S3GenConfig.turbo(), 4, torch.ScalarType.Float)) {
            Tensor mel = torch.randn(new long[] {1, 80, frames}, new GeneratorOptional(g),
                    new TensorOptions(torch.ScalarType.Float));
            long tokens = frames / 2;
            long prompt = 150;
            Tensor ids = torch.randint(0, 6561, new long[] {1, tokens}, new GeneratorOptional(g),
                    new TensorOptions(torch.ScalarType.Long));
            Tensor pids = torch.randint(0, 6561, new long[] {1, prompt}, new GeneratorOptional(g),
                    new TensorOptions(torch.ScalarType.Long));
            Tensor feat = torch.randn(new long[] {1, 2 * prompt, 80}, new GeneratorOptional(g),
                    new TensorOptions(torch.ScalarType.Float));
            Tensor emb = torch.randn(new long[] {1, 192}, new GeneratorOptional(g),
                    new TensorOptions(torch.ScalarType.Float));
            Tensor z = flow.noise(prompt, tokens, 1);
            Runnable hiftRun = () -> {
                try (PointerScope s = new PointerScope()) {
                    hift.vocode(mel, 2);
                }
            };
            Runnable flowRun = () -> {
                try (PointerScope s = new PointerScope()) {
                    flow.inference(ids, pids, feat, emb, z);
                }
            };
            Conv.startRecording();
            hiftRun.run();
            flowRun.run();
            Set<ConvShape> shapes = Conv.stopRecording();
            System.out.printf("%n%-34s %14s %14s %8s%n", "per second of audio (" + seconds + " s)", "Conv rule",
                    "MKLDNN off", "ratio");
            for (var e : List.of(java.util.Map.entry("HiFT", hiftRun), java.util.Map.entry("S3Gen flow", flowRun))) {
                double rule = best(e.getValue(), repeats) / seconds;
                torch.globalContext().setUserEnabledMkldnn(false);
                double off = best(e.getValue(), repeats) / seconds;
                torch.globalContext().setUserEnabledMkldnn(true);
                System.out.printf("%-34s %11.1f ms %11.1f ms %7.2fx%n", e.getKey(), rule, off, off / rule);
            }
            System.out.printf("%n%-80s %12s %12s%n", "shapes routed away from oneDNN", "reference", "oneDNN");
            for (ConvShape s : shapes) {
                if (Conv.oneDnnSafe(s.inputChannelsPerGroup(), s.groups()) || s.kind() != ConvShape.Kind.CONV1D) {
                    continue;
                }
                Tensor x = torch.randn(s.input().stream().mapToLong(Long::longValue).toArray(),
                        new GeneratorOptional(g), new TensorOptions(torch.ScalarType.Float));
                Tensor w = torch.randn(s.weight().stream().mapToLong(Long::longValue).toArray(),
                        new GeneratorOptional(g), new TensorOptions(torch.ScalarType.Float));
                Runnable ref = () -> Conv.conv1d(x, w, null, s.stride().get(0), s.padding().get(0),
                        s.dilation().get(0), s.groups()).close();
                Runnable raw = () -> torch.conv1d(x, w, new org.bytedeco.pytorch.TensorOptional(),
                        new long[] {s.stride().get(0)}, new long[] {s.padding().get(0)},
                        new long[] {s.dilation().get(0)}, s.groups()).close();
                System.out.printf("%-80s %9.2f ms %9.2f ms%n", "in " + s.input() + " w " + s.weight() + " s "
                        + s.stride() + " d " + s.dilation(), best(ref, repeats * 3), best(raw, repeats * 3));
            }
        }
    }

    private static double best(Runnable r, int repeats) {
        r.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }

    static String cpu() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
        } catch (Exception e) {
            return "unknown";
        }
    }
}
