package dev.localai.tts.core.bench;

import dev.localai.tts.core.nn.Int8Kernel;
import dev.localai.tts.core.nn.Int8Matrix;
import dev.localai.tts.core.nn.Weights;
import dev.localai.tts.core.runtime.Torch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Which CPU kernel streams T3's decode-step weights fastest: one token is a matrix-vector product per weight matrix,
 * so each candidate runs all of one GPT-2 medium block's products (q|k|v 3072x1024, attention out 1024x1024, MLP
 * 4096x1024 and 1024x4096) over 24 copies of the block (1.2 GB of fp32, so the weights come from memory, as in a
 * real step), and prints ms per step and the weight bandwidth it reached.
 *
 * <p>Then the two kernels of {@code nn.Int8Matrix} (what T3's int8 weights run on: FBGEMM, and this project's native
 * kernel) by turns, three rounds each, so a drifting machine hits both alike.
 *
 * <pre>tts-core/bench/run.sh MatvecKernelBench [--layers 24] [--repeats 7] [--threads 0] [--int8-only]</pre>
 */
public final class MatvecKernelBench {
    private MatvecKernelBench() {}

    interface Kernel {
        void run(int layer, int matrix, Tensor x, Tensor out);
    }

    public static void main(String[] args) throws Exception {
        BenchArgs a = new BenchArgs(args);
        int layers = a.getInt("layers", 24);
        int repeats = a.getInt("repeats", 7);
        Torch.init(a.getInt("threads", 0));
        System.out.println("CPU: " + ConvPathBench.cpu() + ", LibTorch threads " + torch.get_num_threads());
        long[][] shapes = {{3072, 1024}, {1024, 1024}, {4096, 1024}, {1024, 4096}};
        try (PointerScope scope = new PointerScope()) {
            Tensor[][] w = new Tensor[layers][shapes.length];
            Tensor[][] b = new Tensor[layers][shapes.length];
            for (int l = 0; l < layers; l++) {
                for (int m = 0; m < shapes.length; m++) {
                    w[l][m] = torch.randn(shapes[m]).mul_(new Scalar(0.02));
                    b[l][m] = torch.randn(shapes[m][0]).mul_(new Scalar(0.02));
                }
            }
            long fp32Bytes = 0;
            for (long[] s : shapes) {
                fp32Bytes += s[0] * s[1] * 4L;
            }
            fp32Bytes *= layers;
            Tensor[] xs = new Tensor[shapes.length];
            Tensor[] outs = new Tensor[shapes.length];
            for (int m = 0; m < shapes.length; m++) {
                xs[m] = torch.randn(shapes[m][1]);
                outs[m] = torch.empty(shapes[m][0]);
            }
            Scalar one = new Scalar(1.0);
            if (a.flag("int8-only")) {
                int8Kernels(w, b, layers, shapes, repeats, xs, outs, fp32Bytes / 4);
                return;
            }
            report("fp32 addmv (one thread, OpenBLAS)", fp32Bytes, time(layers, shapes.length, repeats, xs, outs,
                    (l, m, x, o) -> torch.addmv_out(o, b[l][m], w[l][m], x, one, one)));

            Tensor[][] bf = convert(w, torch.ScalarType.BFloat16);
            report("bf16 linear (oneDNN)", fp32Bytes / 2, time(layers, shapes.length, repeats, xs, outs,
                    (l, m, x, o) -> o.copy_(torch.linear(x.to(torch.ScalarType.BFloat16), bf[l][m],
                            new TensorOptional(b[l][m].to(torch.ScalarType.BFloat16))))));
            free(bf);

            Tensor[][] hf = convert(w, torch.ScalarType.Half);
            report("fp16 linear (oneDNN / native)", fp32Bytes / 2, time(layers, shapes.length, repeats, xs, outs,
                    (l, m, x, o) -> o.copy_(torch.linear(x.to(torch.ScalarType.Half), hf[l][m],
                            new TensorOptional(b[l][m].to(torch.ScalarType.Half))))));
            free(hf);

            {
                Tensor[][] p16 = new Tensor[layers][shapes.length];
                for (int l = 0; l < layers; l++) {
                    for (int m = 0; m < shapes.length; m++) {
                        p16[l][m] = torch.fbgemm_pack_gemm_matrix_fp16(w[l][m]);
                    }
                }
                report("fp16 weight, fp32 activation (FBGEMM)", fp32Bytes / 2, time(layers, shapes.length, repeats,
                        xs, outs, (l, m, x, o) -> o.copy_(torch.fbgemm_linear_fp16_weight_fp32_activation(
                                x.view(1, -1), p16[l][m], new TensorOptional(b[l][m])).view(-1))));
                free(p16);

                Tensor[][] q = new Tensor[layers][shapes.length];
                Tensor[][] colOff = new Tensor[layers][shapes.length];
                double[][] scale = new double[layers][shapes.length];
                long[][] zero = new long[layers][shapes.length];
                Tensor[][] qpacked = new Tensor[layers][shapes.length];
                for (int l = 0; l < layers; l++) {
                    for (int m = 0; m < shapes.length; m++) {
                        var t = torch.fbgemm_linear_quantize_weight(w[l][m]);
                        q[l][m] = t.get0();
                        colOff[l][m] = t.get1();
                        scale[l][m] = t.get2();
                        zero[l][m] = t.get3();
                        qpacked[l][m] = torch.fbgemm_pack_quantized_matrix(q[l][m]);
                    }
                }
                report("int8 weight, fp32 activation (FBGEMM, per tensor)", fp32Bytes / 4, time(layers, shapes.length,
                        repeats, xs, outs, (l, m, x, o) -> o.copy_(torch.fbgemm_linear_int8_weight_fp32_activation(
                                x.view(1, -1), q[l][m], qpacked[l][m], colOff[l][m], new Scalar(scale[l][m]),
                                new Scalar(zero[l][m]), b[l][m]).view(-1))));
            }
            int8Kernels(w, b, layers, shapes, repeats, xs, outs, fp32Bytes / 4);
        }
    }

    /** {@code nn.Int8Matrix}'s two kernels on the same weights, by turns. */
    private static void int8Kernels(Tensor[][] w, Tensor[][] b, int layers, long[][] shapes, int repeats, Tensor[] xs,
                                    Tensor[] outs, long bytes) {
        if (!Int8Matrix.usable()) {
            System.out.println("int8: neither FBGEMM nor the native kernel runs here");
            return;
        }
        try (Weights owner = new Weights()) {
            Int8Matrix[][] fb = new Int8Matrix[layers][shapes.length];
            Int8Matrix[][] nat = new Int8Matrix[layers][shapes.length];
            for (int l = 0; l < layers; l++) {
                for (int m = 0; m < shapes.length; m++) {
                    fb[l][m] = Int8Matrix.quantize(w[l][m], owner, Int8Matrix.Kernel.FBGEMM);
                    nat[l][m] = Int8Matrix.quantize(w[l][m], owner, Int8Matrix.Kernel.NATIVE);
                }
            }
            String natName = "int8 Int8Matrix, native kernel (" + (Int8Kernel.available() ? Int8Kernel.isa().label()
                    + ", " + torch.get_num_threads() + " threads" : "unavailable") + ")";
            for (int round = 0; round < 3; round++) {
                report("int8 Int8Matrix, FBGEMM (" + fb[0][0].kernel() + ")", bytes, time(layers, shapes.length,
                        repeats, xs, outs, (l, m, x, o) -> fb[l][m].forwardVec(x, b[l][m], o)));
                report(natName, bytes, time(layers, shapes.length, repeats, xs, outs,
                        (l, m, x, o) -> nat[l][m].forwardVec(x, b[l][m], o)));
            }
        }
    }

    private static Tensor[][] convert(Tensor[][] w, torch.ScalarType t) {
        Tensor[][] out = new Tensor[w.length][];
        for (int l = 0; l < w.length; l++) {
            out[l] = new Tensor[w[l].length];
            for (int m = 0; m < w[l].length; m++) {
                out[l][m] = w[l][m].to(t).contiguous();
            }
        }
        return out;
    }

    private static void free(Tensor[][] w) {
        for (Tensor[] r : w) {
            for (Tensor t : r) {
                t.close();
            }
        }
    }

    /** Best ms of one pass over every layer's products. */
    private static double time(int layers, int matrices, int repeats, Tensor[] xs, Tensor[] outs, Kernel k) {
        List<Double> ms = new ArrayList<>();
        for (int r = 0; r < repeats + 1; r++) {
            long t0 = System.nanoTime();
            for (int l = 0; l < layers; l++) {
                for (int m = 0; m < matrices; m++) {
                    try (PointerScope s = new PointerScope()) {
                        k.run(l, m, xs[m], outs[m]);
                    }
                }
            }
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        return ms.subList(1, ms.size()).stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    private static void report(String what, long bytes, double ms) {
        System.out.printf("%-52s %8.1f ms/step  %6.1f GB/s of weights  (%d MB)%n", what, ms, bytes / (ms / 1e3) / 1e9,
                bytes >> 20);
    }

    static double[] sorted(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c;
    }
}
