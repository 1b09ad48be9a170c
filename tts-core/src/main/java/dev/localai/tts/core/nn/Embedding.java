package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.Embedding(num, dim)}: key {@code weight}, a (num, dim) table. */
public final class Embedding {
    public final Tensor weight;
    private final long num;

    public Embedding(ParamSource p, long num, long dim) {
        this.weight = p.take("weight", num, dim);
        this.num = num;
    }

    /** ids (n) int64 -> (n, dim). */
    public Tensor forward(Tensor ids) {
        return torch.embedding(weight, ids);
    }

    /** A view of one row (dim). */
    public Tensor row(long id) {
        if (id < 0 || id >= num) {
            throw new IllegalArgumentException("token id " + id + " outside the table of " + num);
        }
        return weight.select(0, id);
    }
}
