#include "codegen/isa_check.h"

#include <cctype>
#include <mutex>

#include <llvm-c/Disassembler.h>
#include <llvm-c/Target.h>

#include "codegen/cpu_features.h"
#include "codegen/object_sizes.h"
#include "core/error.h"

namespace m1c::codegen {

namespace {

void init_llvm_disassemblers() {
    static std::once_flag once;
    std::call_once(once, [] {
        LLVMInitializeX86TargetInfo();
        LLVMInitializeX86TargetMC();
        LLVMInitializeX86Disassembler();
        LLVMInitializeAArch64TargetInfo();
        LLVMInitializeAArch64TargetMC();
        LLVMInitializeAArch64Disassembler();
    });
}

// "{vex}\tvpdpbusd\t%ymm1, ..." -> {"{vex}", "vpdpbusd", "%ymm1, ..."}
struct Parsed {
    std::string prefix, mnemonic, operands;
};
Parsed parse(const char *text) {
    Parsed p;
    std::string s(text);
    size_t i = 0;
    auto word = [&] {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        const size_t b = i;
        while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        return s.substr(b, i - b);
    };
    p.mnemonic = word();
    if (!p.mnemonic.empty() && p.mnemonic[0] == '{') {
        p.prefix = p.mnemonic;
        p.mnemonic = word();
    }
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    p.operands = s.substr(i);
    return p;
}

bool ends_with(const std::string &s, const char *t) {
    const size_t n = std::string(t).size();
    return s.size() >= n && s.compare(s.size() - n, n, t) == 0;
}

// AVX512-FP16: half-precision arithmetic and conversions (F16C's vcvtph2ps / vcvtps2ph aside).
bool is_avx512_fp16(const std::string &m) {
    if (m.empty() || m[0] != 'v') return false;
    if (m == "vcvtph2ps" || m == "vcvtps2ph") return false;
    if (m == "vmovw" || m == "vmovsh") return true;
    if (m.rfind("vcvtph2", 0) == 0) return true;
    return ends_with(m, "ph") || ends_with(m, "phx") || (ends_with(m, "sh") && m.rfind("vpsh", 0) != 0);
}

std::string x86_class(const Parsed &p) {
    const std::string &m = p.mnemonic;
    if (m == "vpdpbusd" || m == "vpdpbusds" || m == "vpdpwssd" || m == "vpdpwssds") {
        if (p.prefix == "{vex}") return m + " (VEX, AVX-VNNI)";
        return m + (p.operands.find("zmm") != std::string::npos ? " zmm" : " ymm/xmm (EVEX)");
    }
    if (m == "vpmaddwd" || m == "vpmaddubsw" || m == "pmaddwd" || m == "pmaddubsw") return m;
    if (m.rfind("vfmadd", 0) == 0 && ends_with(m, "ps")) return "vfmadd*ps";
    if (is_avx512_fp16(m)) return "avx512-fp16";
    if (m == "vdpbf16ps" || m == "vcvtne2ps2bf16" || m == "vcvtneps2bf16") return "avx512-bf16";
    return "";
}

// The widest vector registers an x86 instruction names (counted apart from its class).
std::string x86_register_class(const Parsed &p) {
    if (p.operands.find("%zmm") != std::string::npos) return "zmm registers (AVX-512)";
    if (p.operands.find("%ymm") != std::string::npos) return "ymm registers (AVX)";
    return "";
}

std::string arm_class(const Parsed &p) {
    const std::string &m = p.mnemonic;
    if (m == "sdot" || m == "udot" || m == "usdot" || m == "fmla") return m;
    if (m == "smull" || m == "smull2" || m == "smlal" || m == "smlal2" || m == "umull" ||
        m == "umull2" || m == "umlal" || m == "umlal2")
        return "smull/smlal (widening multiply)";
    return "";
}

}  // namespace

IsaReport scan_static_library(const std::string &path, const Halide::Target &target) {
    using T = Halide::Target;
    IsaReport report;
    const bool x86 = target.arch == T::X86, arm = target.arch == T::ARM && target.bits == 64;
    if (!x86 && !arm) return report;
    const auto code = static_library_code(path);
    if (code.empty()) return report;
    init_llvm_disassemblers();
    const char *triple = x86 ? "x86_64-unknown-linux-gnu" : "aarch64-unknown-linux-gnu";
    const char *features = x86 ? "" : "+dotprod,+fullfp16,+fp16fml,+bf16,+i8mm";
    LLVMDisasmContextRef dc = LLVMCreateDisasmCPUFeatures(triple, "", features, nullptr, 0, nullptr, nullptr);
    if (!dc) throw Error("isa check: LLVM has no disassembler for " + std::string(triple));
    char text[256];
    for (const auto &section : code) {
        uint64_t pc = 0;
        const uint8_t *bytes = section.data();
        size_t left = section.size();
        while (left > 0) {
            size_t n = LLVMDisasmInstruction(dc, const_cast<uint8_t *>(bytes), left, pc, text, sizeof text);
            if (n == 0) n = x86 ? 1 : std::min<size_t>(4, left);  // data or padding: step over
            else {
                ++report.instructions;
                const Parsed p = parse(text);
                const std::string cls = x86 ? x86_class(p) : arm_class(p);
                if (!cls.empty()) {
                    if (report.counts[cls]++ == 0) report.examples[cls] = text;
                }
                const std::string regs = x86 ? x86_register_class(p) : "";
                if (!regs.empty() && report.counts[regs]++ == 0) report.examples[regs] = text;
            }
            bytes += n;
            left -= n;
            pc += n;
        }
    }
    LLVMDisasmDispose(dc);
    report.scanned = true;
    return report;
}

std::vector<std::string> instructions_this_cpu_lacks(const IsaReport &report) {
    std::vector<std::string> lacking;
    if (!report.scanned) return lacking;
    const CpuFeatures cpu = this_cpu_features();
    for (const auto &[cls, n] : report.counts) {
        const bool bad = (cls == "avx512-fp16" && !cpu.avx512_fp16) ||
                         (cls == "avx512-bf16" && !cpu.avx512_bf16) ||
                         (cls.find("AVX-VNNI") != std::string::npos && !cpu.avx_vnni) ||
                         (cls.rfind("vpdp", 0) == 0 && cls.find("AVX-VNNI") == std::string::npos &&
                          !cpu.avx512_vnni) ||
                         (cls == "zmm registers (AVX-512)" && !(cpu.avx512f && cpu.os_avx512)) ||
                         (cls == "ymm registers (AVX)" && !(cpu.avx && cpu.os_avx));
        if (bad) lacking.push_back(cls + " (" + std::to_string(n) + ", e.g. " + report.examples.at(cls) + ")");
    }
    return lacking;
}

}  // namespace m1c::codegen
