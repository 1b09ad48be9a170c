package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The int8 kernel's AVX-VNNI path ({@link Int8Kernel.Isa#AVX_VNNI}: T3's decode products on Intel's 12th to 14th
 * generation desktop CPUs, the gaming PCs this project is for, and on AMD Zen 5) where the CPU lacks AVX-VNNI:
 * {@code src/test/c/int8_avx_vnni_check.c} compiles the kernel's source with a C model of VEX-encoded VPDPBUSD and the
 * CPU's AVX2 standing in for AVX-VNNI in its detection ({@link NativeCheck}), then runs 198 products (input widths
 * around the 32- and 64-byte steps, 1 to 1027 outputs, one to five input rows, with and without bias, one thread and
 * three, all columns and an inner range) on every path and compares their bits with the plain C path's: the products
 * are the same integers on every path. {@link Int8KernelTest} runs the real instruction where the CPU has it. Swapping
 * the instruction's unsigned and signed operands fails it (108 of 198), and so does the path's dispatch calling the
 * AVX2 body instead (no model call): both checked by hand when it was written.
 */
class Int8KernelAvxVnniModelTest {
    @Test
    void theAvxVnniPathGivesThePlainPathsBitsOnAModelOfTheInstruction(@TempDir Path tmp) throws Exception {
        List<String> out = NativeCheck.run(tmp, "int8_avx_vnni_check.c");
        List<Map<String, String>> isas = NativeCheck.lines(out, "isa");
        assertThat(isas).as(String.join("\n", out)).extracting(m -> Int8Kernel.Isa.values()[Integer.parseInt(
                m.get("code"))]).contains(Int8Kernel.Isa.SCALAR, Int8Kernel.Isa.AVX2, Int8Kernel.Isa.AVX_VNNI);
        for (Map<String, String> isa : isas) {
            assertThat(isa.get("cases")).as("%s", isa).isEqualTo("198");
            assertThat(isa.get("same")).as("products with the plain C path's bits, %s", isa).isEqualTo("198");
        }
        assertThat(out).as("nothing written outside [n0, n1)").contains("untouched=1");
        assertThat(NativeCheck.count(out, "model-calls")).as("VPDPBUSD run on the model").isGreaterThan(100_000L);
    }
}
