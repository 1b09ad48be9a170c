package dev.localai.tts.core.testing;

import dev.localai.tts.core.checkpoint.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;

/**
 * Access to the golden fixtures of the upstream implementation ({@code ../shared/golden/tiny} next to the
 * repository) and tensor comparison helpers for parity tests.
 */
public final class Golden {
    private static volatile Path dir;

    private Golden() {}

    /** The {@code golden/tiny} directory, found by walking up from the working directory to a sibling {@code shared}. */
    public static Path dir() {
        Path d = dir;
        if (d == null) {
            String env = System.getenv("TTS_GOLDEN_DIR");
            if (env != null && Files.isDirectory(Path.of(env))) {
                d = Path.of(env);
            } else {
                for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
                    Path c = p.resolve("shared/golden/tiny");
                    if (Files.isDirectory(c)) {
                        d = c;
                        break;
                    }
                }
            }
            if (d == null) {
                throw new IllegalStateException("golden fixtures not found: expected shared/golden/tiny beside the "
                        + "repository or TTS_GOLDEN_DIR");
            }
            dir = d;
        }
        return d;
    }

    /** The tiny checkpoint in the official layout that the goldens were produced with. */
    public static Path ckpt() {
        return dir().resolve("ckpt");
    }

    /** Opens one golden stage file, e.g. {@code "t3_prefill.safetensors"}; the caller closes it. */
    public static SafeTensors load(String name) {
        return SafeTensors.open(dir().resolve(name));
    }

    /** max |a - b| over all elements (shapes must match), computed in double. */
    public static double maxAbsDiff(Tensor a, Tensor b) {
        long[] sa = a.sizes().vec().get();
        long[] sb = b.sizes().vec().get();
        if (!java.util.Arrays.equals(sa, sb)) {
            throw new AssertionError("shape " + java.util.Arrays.toString(sa) + " != " + java.util.Arrays.toString(sb));
        }
        try (Tensor da = a.to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
             Tensor db = b.to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
             Tensor diff = da.sub(db);
             Tensor abs = diff.abs();
             Tensor m = abs.max()) {
            return m.item_double();
        }
    }

    /** Signal-to-noise ratio of {@code actual} against {@code expected}, in dB. */
    public static double snrDb(Tensor expected, Tensor actual) {
        try (Tensor e = expected.to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
             Tensor a = actual.to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
             Tensor n = a.sub(e);
             Tensor ps = e.pow(new org.bytedeco.pytorch.Scalar(2)).sum();
             Tensor pn = n.pow(new org.bytedeco.pytorch.Scalar(2)).sum()) {
            double s = ps.item_double();
            double no = pn.item_double();
            return no == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(s / no);
        }
    }
}
