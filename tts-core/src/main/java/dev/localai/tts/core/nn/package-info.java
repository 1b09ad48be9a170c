/**
 * The neural-network layer every model package builds on: {@link dev.localai.tts.core.nn.Linear},
 * {@link dev.localai.tts.core.nn.LayerNorm}, {@link dev.localai.tts.core.nn.Conv1d},
 * {@link dev.localai.tts.core.nn.ConvTranspose1d}, {@link dev.localai.tts.core.nn.Embedding},
 * {@link dev.localai.tts.core.nn.BatchNorm}, weight norm folded at load, and the one parameter source
 * ({@link dev.localai.tts.core.nn.ParamSource}) they load from. Model classes mirror the upstream module tree and name
 * their fields after state-dict keys.
 *
 * <p><b>Convolutions</b> all go through {@link dev.localai.tts.core.nn.Conv}, which keeps oneDNN away from the
 * channel shapes where it reads uninitialised padding (issue 12), except those of sequences kept as rows (B, T, C)
 * ({@link dev.localai.tts.core.nn.RowConv1d}: the flow estimator's), which are one product over a copy whose every
 * row is written.
 *
 * <p><b>The one rule for native memory.</b>
 * <ol>
 *   <li><b>Parameters</b> belong to the model that loaded them. A model's root (T3, S3GenFlow, HiFTGenerator,
 *       CampPlus, S3Tokenizer, VoiceEncoder) holds one {@link dev.localai.tts.core.nn.Weights} and builds its module
 *       tree from {@code weights.track(source)}: every tensor taken through it, and every tensor derived from them at
 *       load ({@link dev.localai.tts.core.nn.ParamSource#keep}, e.g. a folded weight norm), holds one reference in
 *       that owner, whatever {@code PointerScope} is open meanwhile. The root's {@code close()} closes the
 *       {@code Weights}, which releases each exactly once. Modules never close parameters and have no
 *       {@code close()} of their own; a tensor taken only to compute another is given back with
 *       {@link dev.localai.tts.core.nn.ParamSource#free}.</li>
 *   <li><b>Forward passes</b>: a function returns a new tensor that its caller owns; any temporaries it creates are
 *       attached to the caller's innermost open {@code PointerScope} and freed when that scope closes.
 *       {@link dev.localai.tts.core.nn.Scopes#run} runs a block in its own scope and hands only its result out.
 *       Code that must keep a result beyond the scope it was made in (a stream's state, a trace) calls
 *       {@code retainReference()} on it and releases it when done.</li>
 *   <li><b>Native kernels</b> ({@link dev.localai.tts.core.nn.Int8Kernel},
 *       {@link dev.localai.tts.core.nn.CpuAttention}, {@link dev.localai.tts.core.nn.DecoderBlockKernel},
 *       {@link dev.localai.tts.core.nn.HalfMatrix}, {@link dev.localai.tts.core.nn.LogitsKernel},
 *       {@link dev.localai.tts.core.nn.Bf16Attention}, {@link dev.localai.tts.core.nn.Fp32Attention},
 *       {@code NormMishKernel}, {@link dev.localai.tts.core.nn.SnakeKernel}, this project's C
 *       code in {@code src/main/c}) read and write
 *       only tensors their caller passes and owns (or, as a forward pass, return a new one the caller owns), and
 *       allocate nothing that outlives the call (their scratch is on the native stack or freed before they
 *       return).</li>
 *   <li><b>The heap under them</b> is glibc's, shared with every library in the process. Nothing in it is handed back
 *       to the kernel page by page: {@link dev.localai.tts.core.nn.MallocTrimGuard} turns JavaCPP's
 *       {@code malloc_trim(0)}, which JavaCV runs after every FFmpeg decode and encode, into a no-op before the
 *       engine loads a model, because it split the huge pages under the models' tensors.</li>
 * </ol>
 *
 * <p><b>Native kernels.</b> Nine kernels are this project's own C code ({@code libtts_cpu.so}, built by Maven with gcc
 * on Linux x86-64, loaded by {@code NativeKernels} after LibTorch, whose OpenMP threads they share): the int8-weight
 * product of T3's decode steps ({@link dev.localai.tts.core.nn.Int8Kernel}), one decode step's attention
 * ({@link dev.localai.tts.core.nn.CpuAttention}), a GPT-2 block's whole int8 decode step built from both
 * ({@link dev.localai.tts.core.nn.DecoderBlockKernel}, with fp16 or fp32 caches) and an fp16-weight product
 * ({@link dev.localai.tts.core.nn.HalfMatrix}, T3's speech head beside the fused blocks), and T3's sampling warpers
 * and draw on one row of logits ({@link dev.localai.tts.core.nn.LogitsKernel}), and the bf16 flow estimator's
 * attention on Intel AMX tiles or AVX512-BF16 ({@link dev.localai.tts.core.nn.Bf16Attention}) and the fp32 flow's on
 * AVX-512, AVX2, AVX or SSE4.1 ({@link dev.localai.tts.core.nn.Fp32Attention}), and the estimator's layer norm, Mish and time-embedding add
 * in one pass over rows ({@link dev.localai.tts.core.nn.LayerNorm#forwardMish}, any x86-64), and HiFT's Snake
 * activation in one pass ({@link dev.localai.tts.core.nn.SnakeKernel}, any x86-64). Each exists because
 * LibTorch's own kernels were measured slower for that shape (docs/performance.md); the products and the decode
 * attention are used only where the weight-type probe measures them faster on the machine at hand, the sampling
 * wherever the library is loaded (one pass over 6563 values against about fifteen operations), and so the norm and
 * Mish (one pass against three) and the Snake (one against five), the flow's attention
 * kernels wherever their instructions run (faster than LibTorch's at every length timed: bf16 1.1-1.6x on AMX and 30x
 * without it, fp32 1.5-2x; the probe's flow blocks include them, so the flow's weight type is still chosen by
 * measurement); elsewhere, or without the library, LibTorch's kernels run.
 *
 * <p><b>The one rule for OpenMP threads.</b> LibTorch's intra-op threads and these kernels' are libgomp's, which keeps
 * a pool of worker threads for every thread that ever ran a parallel region and, once the process has more such
 * threads than CPUs, sleeps on a futex at every barrier and region start instead of spinning. So a thread that ran
 * model work and is about to wait for more calls {@link dev.localai.tts.core.nn.ThreadPools#release()} (the engine's
 * workers, flush threads and batch decoder, and the callers it computes on); and the fused decode kernel's phases wait
 * on their own barrier, which spins, then sleeps, whatever libgomp decides (a batch of four rows or more), or not at
 * all: one session's threads (and a batch of up to three rows') do the units of a teammate that has stopped, and yield
 * their CPU while it may be waiting for one.
 */
package dev.localai.tts.core.nn;
