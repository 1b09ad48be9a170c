/**
 * The neural-network layer every model package builds on.
 *
 * <p><b>Convolutions</b> all go through {@link dev.localai.tts.core.nn.Conv}, which keeps oneDNN away from the
 * channel shapes where it reads uninitialised padding (issue 12).
 *
 * <p><b>The one rule for native memory.</b> A function in this package returns a new tensor that its caller owns;
 * any temporaries it creates are attached to the caller's innermost open {@code PointerScope} and freed when that
 * scope closes. Model code runs each forward pass inside a scope and calls {@code retainReference()} on the tensors
 * it hands out of the scope; weights are owned by the module that loaded them and freed by its {@code close()}.
 */
package dev.localai.tts.core.nn;
