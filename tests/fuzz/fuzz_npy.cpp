// libFuzzer target: the .npy reader (magic, versions 1-3, the header dict parser, dtypes,
// shape arithmetic checked against the file size, finiteness). Both read modes are run.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "fuzz_common.h"
#include "npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static m1c::fuzz::ScratchFile file("npy");
    const std::string &path = file.write(data, size);
    for (const bool finite : {true, false}) {
        try {
            const m1c::NpyArray a = m1c::read_npy(path, m1c::NpyReadOptions{finite});
            if (int64_t(a.data.size()) != a.numel()) __builtin_trap();
        } catch (const m1c::Error &) {
        }
    }
    return 0;
}
