package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;

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
