// libFuzzer target: load_checkpoint() on torch.save zip files, i.e. libzip + the restricted
// pickle interpreter + the torch host (storages, views, allowed globals), then what the CLI
// does next with the tensors (weight-format and variant detection, the weight check).
//
// Two kinds of input, so that the pickle interpreter is reached despite zip CRCs:
//  * starting with "PK": the bytes are the whole file (zip structure, entries, sizes);
//  * anything else: the bytes are data.pkl, wrapped here into a valid torch.save-style
//    archive (stored entries, correct CRCs) with storages archive/data/0 .. data/11 of
//    1024 bytes each and archive/version. Seeds of this kind are the data.pkl of small
//    torch.save files (make_seed_corpus.py keeps their tensors within 1024 bytes).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "frontend/checkpoint.h"
#include "frontend/detect_spec.h"
#include "frontend/spec.h"
#include "frontend/weight_check.h"
#include "fuzz_common.h"

namespace {

uint32_t crc32(const uint8_t *p, size_t n) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

void put16(std::vector<uint8_t> &out, uint32_t v) {
    out.push_back(uint8_t(v));
    out.push_back(uint8_t(v >> 8));
}
void put32(std::vector<uint8_t> &out, uint32_t v) {
    put16(out, v & 0xffff);
    put16(out, v >> 16);
}

struct Entry {
    std::string name;
    const uint8_t *data;
    size_t size;
};

// A minimal zip of stored entries (what torch.save writes, minus its alignment padding).
std::vector<uint8_t> make_zip(const std::vector<Entry> &entries) {
    std::vector<uint8_t> out, central;
    for (const Entry &e : entries) {
        const uint32_t offset = uint32_t(out.size()), crc = crc32(e.data, e.size);
        for (int pass = 0; pass < 2; ++pass) {
            std::vector<uint8_t> &h = pass == 0 ? out : central;
            put32(h, pass == 0 ? 0x04034b50u : 0x02014b50u);
            if (pass == 1) put16(h, 20);  // version made by
            put16(h, 20);                 // version needed
            put16(h, 0);                  // flags
            put16(h, 0);                  // method: stored
            put16(h, 0);                  // time
            put16(h, 0x21);               // date: 1980-01-01
            put32(h, crc);
            put32(h, uint32_t(e.size));
            put32(h, uint32_t(e.size));
            put16(h, uint16_t(e.name.size()));
            put16(h, 0);  // extra length
            if (pass == 1) {
                put16(h, 0);  // comment length
                put16(h, 0);  // disk number
                put16(h, 0);  // internal attributes
                put32(h, 0);  // external attributes
                put32(h, offset);
            }
            h.insert(h.end(), e.name.begin(), e.name.end());
            if (pass == 0) h.insert(h.end(), e.data, e.data + e.size);
        }
    }
    const uint32_t central_offset = uint32_t(out.size());
    out.insert(out.end(), central.begin(), central.end());
    put32(out, 0x06054b50u);
    put16(out, 0);
    put16(out, 0);
    put16(out, uint16_t(entries.size()));
    put16(out, uint16_t(entries.size()));
    put32(out, uint32_t(central.size()));
    put32(out, central_offset);
    put16(out, 0);
    return out;
}

// Storage bytes: small floats of both signs plus a few zeros, deterministic.
const std::vector<uint8_t> &storage_bytes() {
    static const std::vector<uint8_t> bytes = [] {
        std::vector<uint8_t> b(1024);
        for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t((i * 37 + 11) % 251);
        for (size_t i = 3; i < b.size(); i += 4) b[i] = (i / 4) % 2 ? 0x3f : 0xbf;  // |x| ~ 1
        return b;
    }();
    return bytes;
}

void exercise(const std::string &path) {
    m1c::TensorMap tensors;
    try {
        tensors = m1c::load_checkpoint(path);
    } catch (const m1c::Error &) {
        return;
    }
    m1c::fuzz::inspect_tensors(tensors, path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static m1c::fuzz::ScratchFile file("torch");
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        exercise(file.write(data, size));
        return 0;
    }
    static const char *const keys[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"};
    static const uint8_t version[] = {'3', '\n'};
    std::vector<Entry> entries;
    entries.push_back({"archive/data.pkl", data, size});
    for (const char *key : keys)
        entries.push_back({std::string("archive/data/") + key, storage_bytes().data(),
                           storage_bytes().size()});
    entries.push_back({"archive/version", version, sizeof version});
    const std::vector<uint8_t> zip = make_zip(entries);
    exercise(file.write(zip.data(), zip.size()));
    return 0;
}
