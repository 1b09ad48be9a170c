package dev.localai.tts.core.voice.campplus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.checkpoint.TensorInfo;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.testing.HeldTensors;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CampPlusTest {
    /** The golden clip and the tiny checkpoint's speaker encoder, closed together. */
    private record Tiny(SafeTensors golden, StateDict root, CampPlus model) implements AutoCloseable {
        static Tiny open() {
            SafeTensors g = Golden.load("campplus.safetensors");
            StateDict root = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu());
            return new Tiny(g, root, new CampPlus(root.sub("speaker_encoder"), CampPlusConfig.tiny()));
        }

        @Override
        public void close() {
            model.close();
            root.close();
            golden.close();
        }
    }

    @BeforeAll
    static void init() {
        Torch.init(1);
    }

    @Test
    void stateDictShapesEqualTheTinyCheckpointsSpeakerEncoderSubset() {
        try (SafeTensors f = SafeTensors.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"))) {
            Map<String, String> expected = new TreeMap<>();
            for (Map.Entry<String, TensorInfo> e : f.infos().entrySet()) {
                if (e.getKey().startsWith("speaker_encoder.")) {
                    expected.put(e.getKey(), Arrays.toString(e.getValue().shape()));
                }
            }
            Map<String, String> ours = new TreeMap<>();
            CampPlus.stateDictShapes(CampPlusConfig.tiny()).forEach((k, v) -> ours.put(k, Arrays.toString(v)));
            assertThat(ours).isEqualTo(expected);
        }
    }

    @Test
    void turboShapesHave937Tensors() {
        LinkedHashMap<String, long[]> m = CampPlus.stateDictShapes(CampPlusConfig.turbo());
        assertThat(m).hasSize(937);
        assertThat(m.get("speaker_encoder.xvector.transit2.linear.weight")).containsExactly(512, 1024, 1);
        assertThat(m.get("speaker_encoder.xvector.block3.tdnnd16.linear1.weight")).containsExactly(128, 512 + 32 * 15, 1);
        assertThat(m.get("speaker_encoder.xvector.dense.linear.weight")).containsExactly(192, 1024, 1);
    }

    /**
     * At Turbo's sizes (random weights) on a 10 s clip's features, at two intra-op threads as the engine runs on any
     * machine of two cores, the x-vector comes out finite and the same in the convolution gateway's two layouts.
     * oneDNN's channels-last pointwise kernel killed the process (SIGFPE) in the 1024-to-512 transit layers on every
     * CPU without AMX there, whenever a voice was cloned from a clip ({@code nn.Conv}): the tests' tiny model and
     * one-thread runs never reached it.
     */
    @Test
    void aTurboSizedXvectorAtTwoThreadsIsTheSameInBothConvolutionLayouts(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path file = tmp.resolve("campplus_turbo.safetensors");
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            dev.localai.tts.core.nn.RandomParams params = new dev.localai.tts.core.nn.RandomParams(3);
            Map<String, Tensor> weights = new LinkedHashMap<>();
            CampPlus.stateDictShapes(CampPlusConfig.turbo()).forEach((k, shape) -> {
                Tensor t = params.take(k, shape);
                weights.put(k, k.endsWith("running_var") ? t.abs().add(new org.bytedeco.pytorch.Scalar(0.5)) : t);
            });
            dev.localai.tts.core.checkpoint.SafeTensorsWriter.write(file, weights);
        }
        int threads = org.bytedeco.pytorch.global.torch.get_num_threads();
        boolean layout = dev.localai.tts.core.nn.Conv.channelsLast();
        org.bytedeco.pytorch.global.torch.set_num_threads(Math.max(2, threads));
        try (StateDict sd = StateDict.open(file, Device.cpu());
             CampPlus model = new CampPlus(sd.sub("speaker_encoder"), CampPlusConfig.turbo());
             org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            org.bytedeco.pytorch.global.torch.manual_seed(5);
            Tensor feats = org.bytedeco.pytorch.global.torch.randn(1, 1000, 80); // 10 s of 100 frames a second
            dev.localai.tts.core.nn.Conv.useChannelsLast(false);
            Tensor contiguous = model.forward(feats);
            dev.localai.tts.core.nn.Conv.useChannelsLast(true);
            Tensor channelsLast = model.forward(feats);
            assertThat(contiguous.shape()).containsExactly(1, 192);
            assertThat(org.bytedeco.pytorch.global.torch.isfinite(channelsLast).all().item_bool()).isTrue();
            double scale = contiguous.abs().max().item_double();
            assertThat(Golden.maxAbsDiff(channelsLast, contiguous)).isLessThan(1e-4 * (1 + scale));
        } finally {
            dev.localai.tts.core.nn.Conv.useChannelsLast(layout);
            org.bytedeco.pytorch.global.torch.set_num_threads(threads);
        }
    }

    @Test
    void xvectorMatchesGolden() {
        try (Tiny t = Tiny.open();
             Tensor wav = t.golden().tensor("in.wav16k");
             Tensor feats = t.model().features(wav);
             Tensor x = t.model().embed(wav);
             Tensor expectedFeats = t.golden().tensor("mid.fbank_meannorm");
             Tensor expected = t.golden().tensor("out.xvector")) {
            assertThat(t.root().sub("speaker_encoder").unconsumedKeys()).isEmpty();
            assertThat(Golden.maxAbsDiff(expectedFeats, feats.unsqueeze(0))).isLessThan(1e-4);
            assertThat(x.shape()).containsExactly(1, 192);
            assertThat(Golden.maxAbsDiff(expected, x)).isLessThan(1e-4);
        }
    }

    /**
     * The x-vector leaves each block's output alive, not every residual block's 2-D feature maps or every dense
     * layer's temporaries and concatenations: kept to the end, they made a 12 s clip's clone peak some 450 MB above
     * the process's resting size. Here the tiny model's pass left 22 times its largest tensor alive before, 5 after.
     */
    @Test
    void theXvectorFreesEachLayersTemporariesAsItGoes() {
        try (Tiny t = Tiny.open();
             Tensor wav = t.golden().tensor("in.wav16k");
             Tensor feats = t.model().features(wav);
             HeldTensors held = new HeldTensors()) {
            Tensor x = t.model().forwardInScope(feats.unsqueeze(0));
            assertThat(x.shape()).containsExactly(1, 192);
            assertThat(held.bytes()).as(() -> "bytes left alive, against the largest tensor's " + held.largest()
                    + ": " + held.describe()).isLessThanOrEqualTo(10 * held.largest());
        }
    }
}
