package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.Embedding(num, dim)}: a (num, dim) table. */
final class Embedding implements AutoCloseable {
    final Tensor weight;
    final int num;

    Embedding(ParamSource p, int num, int dim) {
        this.weight = p.take("weight", num, dim);
        this.num = num;
    }

    /** ids (n) int64 -> (n, dim). */
    Tensor forward(Tensor ids) {
        return torch.embedding(weight, ids);
    }

    /** A view of one row (dim). */
    Tensor row(long id) {
        if (id < 0 || id >= num) {
            throw new IllegalArgumentException("token id " + id + " outside the table of " + num);
        }
        return weight.select(0, id);
    }

    @Override
    public void close() {
        weight.close();
    }
}
