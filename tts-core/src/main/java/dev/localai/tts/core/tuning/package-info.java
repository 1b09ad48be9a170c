/**
 * What runs fastest on this machine, measured rather than guessed from CPU flags: the weight-type probe ({@link
 * dev.localai.tts.core.tuning.DtypeProbe}: T3's decode step, a flow block, the convolution layouts, the decode
 * attention and the streamed block's schedule, each candidate timed by turns, cached per CPU, LibTorch version and
 * dispatch caps) and the policies it feeds ({@link dev.localai.tts.core.tuning.WeightTypes}, {@link
 * dev.localai.tts.core.tuning.IntraOpThreads}, {@link dev.localai.tts.core.tuning.ConvLayout}).
 *
 * <p>A layer above {@code nn}, whose kernels it times, and below {@code engine}, which applies what it chose; nothing
 * below it imports it ({@code PackageLayersTest}).
 */
package dev.localai.tts.core.tuning;
