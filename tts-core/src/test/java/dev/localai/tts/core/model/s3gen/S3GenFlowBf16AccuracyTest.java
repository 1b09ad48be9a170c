package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.testing.RelErr;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How far bf16 flow weights (the engine's CPU default where the weight-type probe measured it faster) move the mel from fp32 on the
 * tiny golden checkpoint, from the same noise. The fp32 parity with upstream is {@link S3GenFlowParityTest}'s job.
 */
class S3GenFlowBf16AccuracyTest {
    /** Bound on ||bf16 - fp32|| / ||fp32|| of the mel. */
    static final double MAX_L2_REL = 3e-2;
    /** Bound on max |bf16 - fp32| / max |fp32| of the mel. */
    static final double MAX_REL = 5e-2;

    @BeforeAll
    static void init() {
        Torch.init(2);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "attention in fp32: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void bf16MelStaysCloseToFp32(boolean attentionInFp32) {
        try (StateDict root = StateDict.open(Golden.ckpt().resolve(S3GenFlow.CHECKPOINT), Device.cpu());
             S3GenFlow fp32 = S3GenFlow.load(root, S3GenConfig.tiny());
             S3GenFlow bf16 = S3GenFlow.load(root, S3GenConfig.tiny().withAttentionInFp32(attentionInFp32),
                     ScalarType.BFloat16);
             SafeTensors g = Golden.load("s3gen.safetensors");
             PointerScope scope = new PointerScope()) {
            assertThat(fp32.dtype().value).isEqualTo(ScalarType.Float.value);
            assertThat(bf16.dtype().value).isEqualTo(ScalarType.BFloat16.value);
            Tensor ref = fp32.inference(g.tensor("in.speech_tokens"), g.tensor("in.prompt_token"),
                    g.tensor("in.prompt_feat"), g.tensor("in.embedding"), g.tensor("in.z"));
            Tensor low = bf16.inference(g.tensor("in.speech_tokens"), g.tensor("in.prompt_token"),
                    g.tensor("in.prompt_feat"), g.tensor("in.embedding"), g.tensor("in.z"));
            assertThat(low.scalar_type().value).isEqualTo(ScalarType.Float.value);
            double l2 = RelErr.l2(low, ref);
            double max = RelErr.max(low, ref);
            double vsUpstream = RelErr.l2(low, g.tensor("out.mel"));
            System.out.printf("s3gen flow bf16%s vs fp32 mel: rel L2 %.3g, rel max %.3g "
                    + "(vs upstream fp32: rel L2 %.3g)%n", attentionInFp32 ? " (attention fp32)" : "", l2, max,
                    vsUpstream);
            assertThat(l2).isGreaterThan(0).isLessThan(MAX_L2_REL);
            assertThat(max).isLessThan(MAX_REL);
            assertThat(vsUpstream).isLessThan(MAX_L2_REL);
        }
    }
}
