package dev.localai.tts.core.testing;

import dev.localai.tts.core.runtime.Torch;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.BeforeTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * With {@code -Dtts.test.poison=nan|inf|NUMBER} (the {@code dirty-heap} surefire execution), poisons the native heap
 * before every test and again right before its body, so a kernel that reads memory nobody wrote sees garbage on
 * any machine instead of whatever zeros the heap happened to hold. Without the property it does nothing.
 * Registered for every test class through {@code META-INF/services} and JUnit's extension auto-detection.
 */
public final class PoisonedHeapExtension implements BeforeEachCallback, BeforeTestExecutionCallback {
    @Override
    public void beforeEach(ExtensionContext context) {
        poison();
    }

    @Override
    public void beforeTestExecution(ExtensionContext context) {
        poison();
    }

    private static void poison() {
        Float value = HeapPoison.configured();
        if (value != null) {
            Torch.load();
            HeapPoison.poison(value);
        }
    }
}
