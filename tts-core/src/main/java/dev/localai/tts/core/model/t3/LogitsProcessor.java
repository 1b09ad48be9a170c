package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.LogitsKernel;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Upstream's logits processor chain for Turbo, in its order: temperature, then top-k, then top-p, then repetition
 * penalty (last, so it acts on already masked logits). {@link #process} runs each step as the same tensor operation as
 * the Hugging Face warper it mirrors, so results match to the bit where LibTorch kernels agree; {@link #processInto},
 * what a decode step uses, runs the chain as one call of {@link LogitsKernel} where the native kernels are loaded (the
 * same bits, except that its top-p cut is decided in double precision: see there), else the same operations.
 */
public final class LogitsProcessor {
    private static final Scalar NEG_INF = new Scalar(Double.NEGATIVE_INFINITY).retainReference();
    private static final Scalar ZERO = new Scalar(0.0).retainReference();

    private final SamplingParams params;
    private final Scalar temperature;
    private final Scalar penalty;
    private final Scalar topPThreshold;

    public LogitsProcessor(SamplingParams params) {
        this.params = params;
        this.temperature = new Scalar(params.temperature()).retainReference();
        this.penalty = new Scalar(params.repetitionPenalty()).retainReference();
        this.topPThreshold = new Scalar(1.0 - params.topP()).retainReference();
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * Processes fp32 logits (V) into the preallocated {@code out} (V), the penalty's history ids int64 (n); returns
     * whether any processed logit is finite (upstream stops a generation whose processed logits are all -inf).
     */
    public boolean processInto(Tensor logits, Tensor history, Tensor out) {
        if (LogitsKernel.takes(logits) && LogitsKernel.takes(out) && history.is_contiguous() && !history.is_cuda()) {
            int finite = LogitsKernel.warp(logits, params.temperature(), params.topK(), params.topP(),
                    params.repetitionPenalty(), history, out);
            if (finite != LogitsKernel.NOT_FINITE) {
                return finite > 0;
            }
        }
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            out.copy_(process(logits, history));
            return out.max().item_float() != Float.NEGATIVE_INFINITY;
        }
    }

    /**
     * Processes fp32 logits (V) given the penalty's history ids (int64 (n)); returns a new tensor (V). The caller
     * closes it, or runs this inside a PointerScope.
     */
    public Tensor process(Tensor logits, Tensor history) {
        Tensor s = logits;
        double t = params.temperature();
        if (t > 0 && t != 1.0) {
            s = s.div(temperature);
        }
        if (params.topK() > 0) {
            long k = Math.min(params.topK(), s.size(-1));
            T_TensorTensor_T top = torch.topk(s, k, -1, true, true);
            Tensor kth = top.get0().select(-1, k - 1);
            s = s.masked_fill(torch.lt(s, kth), NEG_INF);
        }
        if (params.topP() < 1.0) {
            T_TensorTensor_T sorted = torch.sort(s, -1, false);
            Tensor cum = torch.softmax(sorted.get0(), -1).cumsum(-1);
            Tensor removeSorted = torch.le(cum, topPThreshold);
            removeSorted.select(-1, s.size(-1) - 1).fill_(ZERO);
            Tensor remove = removeSorted.scatter(-1, sorted.get1(), removeSorted);
            s = s.masked_fill(remove, NEG_INF);
        }
        if (params.repetitionPenalty() != 1.0 && history.numel() > 0) {
            Tensor score = torch.gather(s, -1, history);
            Tensor penalised = torch.where(torch.lt(score, ZERO), score.mul(penalty), score.div(penalty));
            s = s.scatter(-1, history, penalised);
        }
        return s == logits ? logits.clone() : s;
    }
}
