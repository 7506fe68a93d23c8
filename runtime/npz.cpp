#include "npz.h"

#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "npy.h"

namespace m1c {
namespace {

uint32_t crc32(const std::string &bytes) {
    static uint32_t table[256];
    static bool ready = false;
    if (!ready) {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = true;
    }
    uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void put16(std::string &s, uint32_t v) {
    s += char(v & 0xFF);
    s += char((v >> 8) & 0xFF);
}
void put32(std::string &s, uint32_t v) {
    put16(s, v & 0xFFFF);
    put16(s, v >> 16);
}

// A zip header (local: signature 0x04034b50, central: 0x02014b50) for a stored member.
std::string header(bool central, const std::string &name, uint32_t crc, uint32_t size, uint32_t offset) {
    std::string h;
    put32(h, central ? 0x02014b50u : 0x04034b50u);
    if (central) put16(h, 20);  // version made by
    put16(h, 20);               // version needed
    put16(h, 0);                // flags
    put16(h, 0);                // method: stored
    put16(h, 0);                // time
    put16(h, 0x21);             // date: 1980-01-01
    put32(h, crc);
    put32(h, size);
    put32(h, size);
    put16(h, uint32_t(name.size()));
    put16(h, 0);  // extra
    if (central) {
        put16(h, 0);  // comment
        put16(h, 0);  // disk
        put16(h, 0);  // internal attributes
        put32(h, 0);  // external attributes
        put32(h, offset);
    }
    return h + name;
}

}  // namespace

void write_npz(const std::string &path, const std::vector<NpzMember> &members) {
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path + ": cannot open " + tmp + " for writing");
    std::string central;
    uint64_t offset = 0;
    for (const NpzMember &m : members) {
        const std::string name = m.name + ".npy";
        const std::string bytes = npy_bytes(path + " (" + name + ")", m.shape, m.data);
        if (bytes.size() >= 0xFFFFFFFFull || offset >= 0xFFFFFFFFull)
            throw Error(path + ": member " + name + " is too large for a .npz without zip64");
        const uint32_t crc = crc32(bytes);
        const std::string local = header(false, name, crc, uint32_t(bytes.size()), 0);
        central += header(true, name, crc, uint32_t(bytes.size()), uint32_t(offset));
        out.write(local.data(), std::streamsize(local.size()));
        out.write(bytes.data(), std::streamsize(bytes.size()));
        offset += local.size() + bytes.size();
    }
    std::string end;
    put32(end, 0x06054b50u);
    put16(end, 0);
    put16(end, 0);
    put16(end, uint32_t(members.size()));
    put16(end, uint32_t(members.size()));
    put32(end, uint32_t(central.size()));
    put32(end, uint32_t(offset));
    put16(end, 0);
    out.write(central.data(), std::streamsize(central.size()));
    out.write(end.data(), std::streamsize(end.size()));
    out.close();
    if (!out) {
        std::remove(tmp.c_str());
        throw Error(path + ": write failed (disk full?)");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error(path + ": cannot rename " + tmp + " into place");
    }
}

}  // namespace m1c
