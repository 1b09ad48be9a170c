package dev.localai.tts.core.model.t3;

/**
 * Hyper-parameters of the Turbo T3 (GPT-2 backbone plus text/speech embeddings, conditioning encoder, heads).
 *
 * @param nLayer               GPT-2 blocks
 * @param nEmbd                hidden width
 * @param nHead                attention heads (head dim = nEmbd / nHead)
 * @param nPositions           rows of GPT-2's learned position table {@code wpe} (8196 for Turbo)
 * @param gpt2VocabSize        rows of GPT-2's unused token table {@code wte}
 * @param layerNormEps         LayerNorm epsilon
 * @param textTokensDictSize   rows of {@code text_emb} / {@code text_head}
 * @param speechTokensDictSize rows of {@code speech_emb} / {@code speech_head} (6561 codes + start + stop)
 * @param startSpeechToken     speech start id (6561)
 * @param stopSpeechToken      speech stop id (6562)
 * @param speakerEmbedSize     speaker embedding width (256)
 * @param speechCondPromptLen  maximum prompt speech tokens (375)
 */
public record T3Config(int nLayer, int nEmbd, int nHead, int nPositions, int gpt2VocabSize, double layerNormEps,
                       int textTokensDictSize, int speechTokensDictSize, int startSpeechToken, int stopSpeechToken,
                       int speakerEmbedSize, int speechCondPromptLen) {

    public T3Config {
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("nEmbd " + nEmbd + " not divisible by nHead " + nHead);
        }
    }

    /** The official Turbo T3: GPT-2 medium (24 layers, 1024 wide, 16 heads, 8196 positions). */
    public static T3Config turbo() {
        return new T3Config(24, 1024, 16, 8196, 50276, 1e-5, 50276, 6563, 6561, 6562, 256, 375);
    }

    /** The Nano variant: GPT-2 small backbone (12 layers, 768 wide, 12 heads). */
    public static T3Config nano() {
        return new T3Config(12, 768, 12, 8196, 50276, 1e-5, 50276, 6563, 6561, 6562, 256, 375);
    }

    /** The tiny golden profile ({@code arch.t3} of shared/golden/tiny/manifest.json). */
    public static T3Config tiny() {
        return new T3Config(2, 128, 2, 2048, 1024, 1e-5, 1024, 6563, 6561, 6562, 256, 375);
    }

    /**
     * The configuration of a T3 checkpoint, read from its tensor shapes: layers from the {@code tfmr.h.N} keys, widths
     * and table sizes from the weights. Heads cannot be read from shapes; GPT-2 medium/small (and the tiny golden
     * profile) all use 64-wide heads, so nHead = nEmbd / 64.
     */
    public static T3Config fromCheckpoint(dev.localai.tts.core.checkpoint.SafeTensors st) {
        int layers = 0;
        while (st.contains("tfmr.h." + layers + ".ln_1.weight")) {
            layers++;
        }
        long[] wpe = st.info("tfmr.wpe.weight").shape();
        long[] wte = st.info("tfmr.wte.weight").shape();
        long[] text = st.info("text_emb.weight").shape();
        long[] speech = st.info("speech_emb.weight").shape();
        long[] spk = st.info("cond_enc.spkr_enc.weight").shape();
        int d = (int) wpe[1];
        int speechVocab = (int) speech[0];
        return new T3Config(layers, d, d / 64, (int) wpe[0], (int) wte[0], 1e-5, (int) text[0], speechVocab,
                speechVocab - 2, speechVocab - 1, (int) spk[1], 375);
    }

    public int headDim() {
        return nEmbd / nHead;
    }

    /** MLP inner width (GPT-2: 4 x hidden). */
    public int nInner() {
        return 4 * nEmbd;
    }
}
