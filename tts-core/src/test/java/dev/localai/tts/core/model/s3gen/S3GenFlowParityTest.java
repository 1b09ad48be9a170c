package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Parity with the upstream flow on the tiny random checkpoint ({@code golden/tiny/s3gen.safetensors}). */
class S3GenFlowParityTest {

    @BeforeAll
    static void init() {
        Torch.init(2);
    }

    @Test
    void melMatchesUpstreamFromTheSameNoise() {
        melMatchesUpstream();
    }

    /** The same parity with the fp32 linear layers on oneDNN (where the weight-type probe found it faster). */
    @Test
    void melMatchesUpstreamWithTheLinearLayersOnOnednn() {
        dev.localai.tts.core.nn.Linear.useOnednnForFp32(true);
        try {
            melMatchesUpstream();
        } finally {
            dev.localai.tts.core.nn.Linear.useOnednnForFp32(false);
        }
    }

    private static void melMatchesUpstream() {
        {
        try (StateDict root = StateDict.open(Golden.ckpt().resolve(S3GenFlow.CHECKPOINT), Device.cpu());
             S3GenFlow flow = S3GenFlow.load(root, S3GenConfig.tiny());
             SafeTensors g = Golden.load("s3gen.safetensors");
             FlowTrace.Recording trace = new FlowTrace.Recording();
             PointerScope scope = new PointerScope()) {
            // every flow.* key is consumed (the other prefixes belong to HiFT, CAMPPlus and the S3 tokenizer)
            assertThat(root.sub("flow").unconsumedKeys()).isEmpty();

            Tensor mel = flow.inference(g.tensor("in.speech_tokens"), g.tensor("in.prompt_token"),
                    g.tensor("in.prompt_feat"), g.tensor("in.embedding"), g.tensor("in.z"), trace);

            double mu = Golden.maxAbsDiff(trace.mu(), g.tensor("mid.mu"));
            double e0 = Golden.maxAbsDiff(trace.estimatorOuts().get(0), g.tensor("mid.estimator_out_step0"));
            double e1 = Golden.maxAbsDiff(trace.estimatorOuts().get(1), g.tensor("mid.estimator_out_step1"));
            double m = Golden.maxAbsDiff(mel, g.tensor("out.mel"));
            System.out.printf("s3gen flow parity: mu %.3g, est0 %.3g, est1 %.3g, mel %.3g%n", mu, e0, e1, m);
            assertThat(trace.estimatorOuts()).hasSize(2);
            assertThat(mu).isLessThan(1e-4);
            assertThat(e0).isLessThan(5e-4);
            assertThat(e1).isLessThan(5e-4);
            assertThat(m).isLessThan(1e-3);
        }
        }
    }

    /**
     * The solver in other step counts (upstream's {@code n_cfm_timesteps}): the checkpoint's 2 named explicitly is the
     * same computation bit for bit; one step is one Euler step over t = 0 to 1, whose velocity is the estimator's at
     * (t, r) = (0, 1), not the two-step run's first one at (0, 0.5).
     */
    @Test
    void oneSolverStepIsOneEulerStepFromZeroToOne() {
        try (StateDict root = StateDict.open(Golden.ckpt().resolve(S3GenFlow.CHECKPOINT), Device.cpu());
             S3GenFlow flow = S3GenFlow.load(root, S3GenConfig.tiny());
             SafeTensors g = Golden.load("s3gen.safetensors");
             FlowTrace.Recording one = new FlowTrace.Recording();
             FlowTrace.Recording two = new FlowTrace.Recording();
             PointerScope scope = new PointerScope()) {
            Tensor tokens = g.tensor("in.speech_tokens");
            Tensor promptTok = g.tensor("in.prompt_token");
            Tensor promptFeat = g.tensor("in.prompt_feat");
            Tensor embedding = g.tensor("in.embedding");
            Tensor z = g.tensor("in.z");
            Tensor byDefault = flow.inference(tokens, promptTok, promptFeat, embedding, z);
            Tensor named = flow.inference(tokens, promptTok, promptFeat, embedding, z, 2, two);
            assertThat(Golden.maxAbsDiff(named, byDefault)).as("2 steps named: the configured run").isZero();
            assertThat(two.estimatorOuts()).hasSize(2);

            Tensor mel = flow.inference(tokens, promptTok, promptFeat, embedding, z, 1, one);
            assertThat(one.estimatorOuts()).hasSize(1);
            long m1 = promptFeat.size(promptFeat.dim() - 2);
            Tensor v = one.estimatorOuts().get(0);
            Tensor expected = z.add(v).narrow(2, m1, v.size(2) - m1);
            assertThat(Golden.maxAbsDiff(mel, expected)).as("x1 = z + (1 - 0) v(z, t = 0, r = 1)").isLessThan(1e-6);
            // the tiny checkpoint's time mixer keeps upstream's initialisation, [I 0], which ignores r: the one step's
            // velocity is the two-step run's first one, and only the step size differs
            assertThat(Golden.maxAbsDiff(v, two.estimatorOuts().get(0))).isLessThan(1e-6);
            assertThat(Golden.maxAbsDiff(mel, byDefault)).isGreaterThan(1e-3);
            assertThat(mel.isfinite().all().item_bool()).isTrue();
            assertThatThrownBy(() -> flow.inference(tokens, promptTok, promptFeat, embedding, z, 0, FlowTrace.NONE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("steps");
        }
        // a trained mixer reads r too (random weights stand for one): the one step's velocity is the estimator's at
        // r = 1, not at 0.5
        try (S3GenFlow flow = S3GenFlow.random(S3GenConfig.tiny(), 5, org.bytedeco.pytorch.global.torch.ScalarType.Float);
             FlowTrace.Recording one = new FlowTrace.Recording();
             FlowTrace.Recording two = new FlowTrace.Recording();
             PointerScope scope = new PointerScope()) {
            Tensor tokens = Tensor.create(new long[] {1, 2, 3, 4, 5, 6, 7, 8}, 1, 8);
            Tensor promptTok = Tensor.create(new long[] {9, 10, 11, 12}, 1, 4);
            Tensor promptFeat = org.bytedeco.pytorch.global.torch.randn(1, 8, 80);
            Tensor embedding = org.bytedeco.pytorch.global.torch.randn(1, 192);
            Tensor z = flow.noise(4, 8, 3);
            flow.inference(tokens, promptTok, promptFeat, embedding, z, 1, one);
            flow.inference(tokens, promptTok, promptFeat, embedding, z, 2, two);
            assertThat(Golden.maxAbsDiff(one.estimatorOuts().get(0), two.estimatorOuts().get(0)))
                    .as("r enters the estimator").isGreaterThan(1e-4);
        }
    }

    @Test
    void seededNoiseIsReproducibleAndShaped() {
        try (StateDict root = StateDict.open(Golden.ckpt().resolve(S3GenFlow.CHECKPOINT), Device.cpu());
             S3GenFlow flow = S3GenFlow.load(root, S3GenConfig.tiny());
             PointerScope scope = new PointerScope()) {
            Tensor a = flow.noise(50, 23, 7);
            Tensor b = flow.noise(50, 23, 7);
            Tensor c = flow.noise(50, 23, 8);
            assertThat(a.sizes().vec().get()).containsExactly(1, 80, 146);
            assertThat(Golden.maxAbsDiff(a, b)).isZero();
            assertThat(Golden.maxAbsDiff(a, c)).isGreaterThan(0.1);
        }
    }
}
