package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.testing.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tts component STAGE} end to end against the golden fixtures: feed the golden file, compare the written
 * outputs with the golden's {@code mid.*}/{@code out.*} within the tolerances of shared/golden/README.md section 6.
 */
class ComponentCommandTest {
    @TempDir
    Path tmp;

    /** A tensor to compare: tolerance on the max abs difference (0: identical); snr > 0 also requires that SNR. */
    record Check(String key, double tol, double snrDb) {
        static Check of(String key, double tol) {
            return new Check(key, tol, 0);
        }
    }

    private SafeTensors component(String stage, String golden) {
        Path out = tmp.resolve(stage + "_out.safetensors");
        Cli.Result r = Cli.run(tmp.resolve("home"), Map.of(), "", "component", stage, "--model",
                Golden.ckpt().toString(), "--in", Golden.dir().resolve(golden).toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains(stage + ": wrote " + out);
        return SafeTensors.open(out);
    }

    private void assertMatches(String stage, String golden, List<Check> checks) {
        try (SafeTensors o = component(stage, golden);
             SafeTensors g = Golden.load(golden);
             PointerScope scope = new PointerScope()) {
            for (Check c : checks) {
                assertThat(o.contains(c.key())).as("%s writes %s", stage, c.key()).isTrue();
                Tensor want = g.tensor(c.key());
                Tensor got = o.tensor(c.key());
                double d = Golden.maxAbsDiff(got, want);
                assertThat(d).as("%s %s max abs diff", stage, c.key()).isLessThanOrEqualTo(c.tol());
                if (c.snrDb() > 0) {
                    assertThat(Golden.snrDb(want, got)).as("%s %s SNR", stage, c.key()).isGreaterThanOrEqualTo(c.snrDb());
                }
            }
        }
    }

    @Test
    void t3GreedyWritesTheGoldenLogitsProbsAndIds() {
        assertMatches("t3", "t3_greedy.safetensors", List.of(Check.of("out.sampled_ids_all", 0),
                Check.of("out.tokens", 0), Check.of("out.step_logits", 1e-4), Check.of("out.step_probs", 1e-6)));
    }

    @Test
    void t3PrefillWritesTheGoldenEmbeddingsHiddenStatesAndFirstLogits() {
        assertMatches("t3_prefill", "t3_prefill.safetensors", List.of(Check.of("mid.cond_emb", 1e-6),
                Check.of("mid.inputs_embeds", 1e-6), Check.of("mid.hidden_states", 1e-4),
                Check.of("out.speech_logits", 1e-4)));
    }

    @Test
    void t3SampledReplaysTheInjectedUniforms() {
        assertMatches("t3_sampled", "t3_sampled.safetensors", List.of(Check.of("out.sampled_ids_all", 0),
                Check.of("out.tokens", 0), Check.of("out.step_probs", 1e-6)));
    }

    @Test
    void s3genWritesTheGoldenMelAndWaveform() {
        assertMatches("s3gen", "s3gen.safetensors", List.of(Check.of("mid.mu", 1e-4),
                Check.of("mid.estimator_out_step0", 5e-4), Check.of("mid.estimator_out_step1", 5e-4),
                Check.of("out.mel", 1e-3), Check.of("mid.f0", 1e-4), Check.of("mid.source", 1e-4),
                new Check("out.wav", 1e-4, 60)));
    }

    @Test
    void hiftWritesTheGoldenSourceAndWaveform() {
        assertMatches("hift", "hift.safetensors", List.of(Check.of("mid.f0", 1e-4), Check.of("out.source", 1e-5),
                new Check("out.wav", 1e-4, 60)));
    }

    @Test
    void veWritesTheGoldenTrimMelAndEmbedding() {
        assertMatches("ve", "ve.safetensors", List.of(Check.of("mid.trim_interval", 0), Check.of("mid.mel", 1e-4),
                Check.of("out.embedding", 1e-5)));
    }

    @Test
    void s3tokenizerWritesTheGoldenLogMelAndTokens() {
        assertMatches("s3tokenizer", "s3tokenizer.safetensors", List.of(Check.of("mid.log_mel", 1e-5),
                Check.of("mid.fsq_prequant", 1e-4), Check.of("out.tokens", 0), Check.of("out.token_lens", 0)));
    }

    @Test
    void campplusWritesTheGoldenFbankAndXvector() {
        assertMatches("campplus", "campplus.safetensors", List.of(Check.of("mid.fbank_meannorm", 1e-4),
                Check.of("out.xvector", 1e-4)));
    }

    @Test
    void embedRefWritesTheGoldenReferenceDict() {
        assertMatches("embed_ref", "embed_ref.safetensors", List.of(Check.of("mid.wav_resampled_16k", 1e-6),
                Check.of("mid.mel24", 1e-4), Check.of("out.prompt_feat", 1e-4), Check.of("out.prompt_token", 0),
                Check.of("out.prompt_token_len", 0), Check.of("out.embedding", 1e-4)));
    }

    @Test
    void e2eWritesTheGoldenIdsAndWaveform() {
        assertMatches("e2e", "e2e.safetensors", List.of(Check.of("out.sampled_ids_all", 0),
                new Check("out.wav", 1e-4, 60)));
    }

    @Test
    void loudnessWritesTheNormalisedClip() {
        // out.wav peaks near 0.3: 1e-5 relative is about 3e-6 absolute
        assertMatches("loudness", "loudness.safetensors", List.of(Check.of("mid.integrated_lufs", 1e-4),
                Check.of("out.wav", 3e-6)));
    }

    @Test
    void condsComposeTheEncoderGoldens() throws IOException {
        Path in = tmp.resolve("conds_in.safetensors");
        try (SafeTensors ve = Golden.load("ve.safetensors");
             SafeTensors ref = Golden.load("embed_ref.safetensors");
             PointerScope scope = new PointerScope()) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            m.put("in.wav24k", ref.tensor("in.wav24k"));
            m.put("in.wav16k", ve.tensor("in.wav16k"));
            SafeTensorsWriter.write(in, m);
        }
        Path out = tmp.resolve("conds_out.safetensors");
        Cli.Result r = Cli.run(tmp.resolve("home"), Map.of(), "", "component", "conds", "--model",
                Golden.ckpt().toString(), "--in", in.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        try (SafeTensors o = SafeTensors.open(out);
             SafeTensors ve = Golden.load("ve.safetensors");
             SafeTensors tok = Golden.load("s3tokenizer.safetensors");
             SafeTensors ref = Golden.load("embed_ref.safetensors");
             PointerScope scope = new PointerScope()) {
            assertThat(Golden.maxAbsDiff(o.tensor("out.speaker_emb"), ve.tensor("out.embedding"))).isLessThan(1e-5);
            assertThat(Golden.maxAbsDiff(o.tensor("out.cond_prompt_speech_tokens"), tok.tensor("out.tokens"))).isZero();
            assertThat(Golden.maxAbsDiff(o.tensor("out.prompt_token"), ref.tensor("out.prompt_token"))).isZero();
            assertThat(Golden.maxAbsDiff(o.tensor("out.prompt_feat"), ref.tensor("out.prompt_feat"))).isLessThan(1e-4);
            assertThat(Golden.maxAbsDiff(o.tensor("out.embedding"), ref.tensor("out.embedding"))).isLessThan(1e-4);
        }
    }

    @Test
    void tokenizerReadsAndWritesTheGoldenJsonLayout() throws IOException {
        Path out = tmp.resolve("tok.json");
        Cli.Result r = Cli.run(tmp.resolve("home"), Map.of(), "", "component", "tokenizer", "--model",
                Golden.ckpt().toString(), "--in", Golden.dir().resolve("tokenizer.json").toString(), "--out",
                out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode hello = new ObjectMapper().readTree(out.toFile()).get("cases").get(1);
        assertThat(hello.get("punc_norm").asText()).isEqualTo("Hello world.");
        assertThat(hello.get("ids").toString()).isEqualTo("[15496,995,13]");
    }

    @Test
    void everyListedStageIsWiredAndBadInputIsAClearError() throws IOException {
        assertThat(ComponentCommand.STAGES).contains("t3", "t3_prefill", "t3_greedy", "t3_sampled", "ve", "s3gen",
                "hift", "e2e", "conds", "embed_ref", "campplus", "s3tokenizer", "loudness", "tokenizer");
        Path notTensors = Files.writeString(tmp.resolve("bad.safetensors"), "not a safetensors file");
        Cli.Result r = Cli.run(tmp.resolve("home"), Map.of(), "", "component", "hift", "--model",
                Golden.ckpt().toString(), "--in", notTensors.toString(), "--out", tmp.resolve("o").toString());
        assertThat(r.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(r.err()).startsWith("tts: error: ").doesNotContain("\tat ");

        Cli.Result missing = Cli.run(tmp.resolve("home"), Map.of(), "", "component", "t3", "--model",
                Golden.ckpt().toString(), "--in", Golden.dir().resolve("hift.safetensors").toString(), "--out",
                tmp.resolve("o").toString());
        assertThat(missing.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(missing.err()).contains("has no 'in.text_ids' tensor").doesNotContain("\tat ");
    }
}
