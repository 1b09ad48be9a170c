package dev.localai.tts.core.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;

/**
 * A {@link PointerScope} that notes the tensors attached to it: what a forward pass run inside it leaves alive until
 * the scope closes. Temporaries a pass frees in scopes of its own ({@code Scopes.run}) are not seen; temporaries it
 * leaves in its caller's scope are, and they are what a pass's working set grows by (every tensor alive at once).
 */
public final class HeldTensors extends PointerScope {
    private final List<Tensor> held = new ArrayList<>();

    @Override
    public PointerScope attach(Pointer p) {
        super.attach(p);
        if (p instanceof Tensor t) {
            held.add(t);
        }
        return this;
    }

    /**
     * Bytes of the distinct storages of the tensors attached so far and not freed (views count once), leaving out
     * the storages of {@code made before} (a cache the pass writes into through views).
     */
    public long bytes(Tensor... madeBefore) {
        return sizes(false, madeBefore);
    }

    /** Bytes of the largest of those storages. */
    public long largest(Tensor... madeBefore) {
        return sizes(true, madeBefore);
    }

    /** Each attached tensor's shape, storage address and storage bytes, for a failure's message. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (Tensor t : List.copyOf(held)) {
            if (t.isNull() || !t.defined()) {
                continue;
            }
            try (Storage s = t.storage()) {
                b.append(Arrays.toString(t.sizes().vec().get())).append('@').append(Long.toHexString(s.data().address()))
                        .append(':').append(s.nbytes()).append("; ");
            }
        }
        return b.toString();
    }

    private long sizes(boolean max, Tensor... madeBefore) {
        Set<Long> seen = new HashSet<>();
        for (Tensor t : madeBefore) {
            try (Storage s = t.storage()) {
                seen.add(s.data().address());
            }
        }
        long sum = 0;
        for (Tensor t : List.copyOf(held)) {
            if (t.isNull() || !t.defined()) {
                continue;
            }
            try (Storage s = t.storage()) {
                Pointer data = s.data();
                if (data != null && !data.isNull() && seen.add(data.address())) {
                    sum = max ? Math.max(sum, s.nbytes()) : sum + s.nbytes();
                }
            }
        }
        return sum;
    }
}
