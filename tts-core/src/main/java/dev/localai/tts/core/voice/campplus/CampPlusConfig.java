package dev.localai.tts.core.voice.campplus;

/**
 * Sizes of the CAMPPlus x-vector network (S3Gen's {@code speaker_encoder}).
 *
 * @param featDim       fbank bins (80)
 * @param embeddingSize x-vector size (192)
 * @param growthRate    dense-layer output channels (32)
 * @param bnSize        bottleneck multiplier: bottleneck = bnSize * growthRate (4)
 * @param initChannels  TDNN output channels (128)
 * @param headChannels  FCM head channels (32, fixed upstream)
 */
public record CampPlusConfig(int featDim, int embeddingSize, int growthRate, int bnSize, int initChannels,
                             int headChannels) {
    /** Dense layers per CAM block (fixed upstream). */
    public static final int[] BLOCK_LAYERS = {12, 24, 16};
    /** Dilation of each CAM block (fixed upstream). */
    public static final int[] BLOCK_DILATIONS = {1, 2, 2};
    public static final int KERNEL = 3;

    public int bottleneck() {
        return bnSize * growthRate;
    }

    /** Channels out of the FCM head: headChannels * featDim / 8. */
    public int headOutChannels() {
        return headChannels * (featDim / 8);
    }

    /**
     * Reads the sizes from a checkpoint view with the speaker encoder's prefix ({@code sd.sub("speaker_encoder")}).
     */
    public static CampPlusConfig inferFrom(dev.localai.tts.core.checkpoint.StateDict sd) {
        long[] local = sd.shape("xvector.block1.tdnnd1.cam_layer.linear_local.weight"); // [growth, bottleneck, 3]
        long[] tdnn = sd.shape("xvector.tdnn.linear.weight");                           // [init, head_out, 5]
        long[] dense = sd.shape("xvector.dense.linear.weight");                         // [embedding, 2C, 1]
        long head = sd.shape("head.conv1.weight")[0];
        int featDim = (int) (tdnn[1] / head * 8);
        return new CampPlusConfig(featDim, (int) dense[0], (int) local[0], (int) (local[1] / local[0]),
                (int) tdnn[0], (int) head);
    }

    public static CampPlusConfig turbo() {
        return new CampPlusConfig(80, 192, 32, 4, 128, 32);
    }

    /** The tiny golden profile ({@code arch.s3gen.campplus} of shared/golden/tiny/manifest.json). */
    public static CampPlusConfig tiny() {
        return new CampPlusConfig(80, 192, 8, 2, 32, 32);
    }
}
